#!/bin/sh
# Unpacks the Debian packages an image of another architecture is made from (the JDK's jmods and
# the C libraries) into DIR, without installing them, and lists them with their versions in
# DIR/packages.txt. Adds the architecture to dpkg and reads its package lists once (root).
#
#   foreign-packages.sh ARCH DIR
set -eu
arch=${1:?usage: foreign-packages.sh ARCH DIR}
dir=${2:?usage: foreign-packages.sh ARCH DIR}
packages="openjdk-17-jdk-headless libc6 zlib1g libstdc++6 libgcc-s1"
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
  echo "foreign-packages.sh: $arch is this machine's own architecture; the build uses its packages" >&2
  exit 1
fi
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  [ "$(id -u)" = 0 ] || { echo "foreign-packages.sh: adding $arch to dpkg needs root (dpkg --add-architecture $arch; apt-get update)" >&2; exit 1; }
  dpkg --add-architecture "$arch"
  apt-get update -qq >&2
fi
if [ -z "$(apt-cache madison "libc6:$arch" 2>/dev/null)" ]; then
  [ "$(id -u)" = 0 ] || { echo "foreign-packages.sh: apt knows no $arch packages yet; run apt-get update as root" >&2; exit 1; }
  apt-get update -qq >&2
fi
rm -rf "$dir"
mkdir -p "$dir/debs"
# apt's own user must be able to write where the files land.
chmod 777 "$dir/debs"
(cd "$dir/debs" && for p in $packages; do echo "$p:$arch"; done | xargs apt-get download -qq >&2)
: > "$dir/packages.txt"
for deb in "$dir"/debs/*.deb; do
  dpkg-deb -x "$deb" "$dir"
  dpkg-deb -f "$deb" Package Version Architecture | sed 's/^[A-Za-z]*: //' | paste -sd' ' >> "$dir/packages.txt"
done
rm -rf "$dir/debs"
jmods=$(find "$dir/usr/lib/jvm" -maxdepth 2 -name jmods -type d | head -n 1)
[ -n "$jmods" ] || { echo "foreign-packages.sh: no jmods directory in openjdk-17-jdk-headless:$arch" >&2; exit 1; }
echo "$jmods"
