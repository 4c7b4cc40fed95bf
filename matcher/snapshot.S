/* snapshot.S - the bundled endpoint snapshot (data/worldwide-c2025.json)
 * compiled into the program, so it cannot go missing: used when there is no
 * --data and no cache.  NUL-terminated; m365_snapshot_end points at the NUL. */
	.section .rodata
	.global m365_snapshot
	.type m365_snapshot, @object
m365_snapshot:
	.incbin "data/worldwide-c2025.json"
	.global m365_snapshot_end
m365_snapshot_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
