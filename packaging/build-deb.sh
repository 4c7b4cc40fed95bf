#!/bin/sh
# packaging/build-deb.sh VERSION OUTDIR - what "make deb" runs: builds the
# Debian package of the tree it is run in (the repository's root) with
# dpkg-buildpackage, in a copy under OUTDIR/deb-src so the tree stays
# clean (dpkg-buildpackage writes next to the source and "debian/rules
# clean" deletes build/), and puts the .deb in OUTDIR.
#
# The copy holds the files git knows (tracked, and new ones not ignored;
# without git, everything but build/), with packaging/debian as debian/.
# A VERSION other than the latest of packaging/debian/changelog gets an
# entry of its own in the copy (make deb VERSION=0.0.9: an older package,
# e.g. to test upgrades).  Needs only Debian packages: dpkg-dev, debhelper
# and the Build-Depends of packaging/debian/control.
set -eu

version=$1
out=$2
case $version in
'' | *[!0-9A-Za-z.+~-]*)
	echo "build-deb: VERSION '$version' is not a Debian version" >&2
	exit 2
	;;
esac
name=m365-direct
top=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
work=$out/deb-src
src=$work/$name-$version
rm -rf "$work"
mkdir -p "$src"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# deleted but not yet committed files are listed too: skip them
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done; :' sh |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi
rm -rf "$src/debian"
cp -R packaging/debian "$src/debian"

if [ "$version" != "$top" ]; then
	when=$(dpkg-parsechangelog -l packaging/debian/changelog -S Date)
	who=$(dpkg-parsechangelog -l packaging/debian/changelog -S Maintainer)
	{
		printf '%s (%s) unstable; urgency=medium\n\n' "$name" "$version"
		printf '  * Built by make deb VERSION=%s from the tree of %s.\n\n' \
			"$version" "$top"
		printf ' -- %s  %s\n\n' "$who" "$when"
	} >"$src/debian/changelog"
fi

# Until man/ exists in the tree, the package has no manual page for
# /usr/bin/m365-direct: lintian's no-manual-page, overridden then only.
if [ ! -e man/m365-direct.8 ]; then
	{
		echo '# The manual pages are not in this tree yet (man/, written'
		echo '# separately); the override goes away once they are.'
		echo 'no-manual-page [usr/bin/m365-direct]'
	} >>"$src/debian/$name.lintian-overrides"
fi

jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
(
	cd "$src"
	DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -b -us -uc
) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; the whole log: $work/build.log" >&2
	exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=${name}_${version}_$arch.deb
cp "$work/$deb" "$out/$deb"
echo "$out/$deb"
