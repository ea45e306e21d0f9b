#!/bin/sh
# Copies the C library files that the jlink runtime and Netty's epoll transport need into an
# image root, from the Debian packages installed on the build machine (dpkg knows which package
# owns each file), and records those packages' versions in the image.
#
#   glibc-files.sh IMAGE_ROOT
set -eu
root=${1:?usage: glibc-files.sh IMAGE_ROOT}
arch=$(dpkg --print-architecture)
case "$arch" in
  amd64) triplet=x86_64-linux-gnu; loader=/lib64/ld-linux-x86-64.so.2 ;;
  arm64) triplet=aarch64-linux-gnu; loader=/lib/ld-linux-aarch64.so.1 ;;
  *) echo "glibc-files.sh: unsupported architecture $arch" >&2; exit 1 ;;
esac
packages="libc6 zlib1g libstdc++6 libgcc-s1"
# libdl and librt: Netty's epoll library; libstdc++ and libgcc_s: parts of the JDK's native code.
names="libc.so.6 libm.so.6 libz.so.1 libdl.so.2 librt.so.1 libpthread.so.0 libstdc++.so.6 libgcc_s.so.1"
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || {
    echo "glibc-files.sh: Debian package $package is not installed (apt-get install $package)" >&2; exit 1; }
done
owned=$(dpkg -L $packages)
for name in $names; do
  path=
  for candidate in $owned; do
    case "$candidate" in
      /lib/$triplet/$name|/usr/lib/$triplet/$name) path=$candidate; break ;;
    esac
  done
  if [ -z "$path" ]; then
    echo "glibc-files.sh: no package of [$packages] holds $name" >&2; exit 1
  fi
  mkdir -p "$root/lib/$triplet"
  cp -L "$path" "$root/lib/$triplet/$name"
done
mkdir -p "$root$(dirname "$loader")"
cp -L "$loader" "$root$loader"
mkdir -p "$root/usr/share/keyturn"
dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' $packages > "$root/usr/share/keyturn/image-packages.txt"
