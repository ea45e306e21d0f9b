#!/bin/sh
# Copies the C library files that the jlink runtime and Netty's epoll transport need into an
# image root, and records the Debian packages they came from, with their versions, in the image.
#
#   glibc-files.sh IMAGE_ROOT [ARCH [PACKAGES_DIR]]
#
# Without PACKAGES_DIR the files come from the packages installed on the build machine (dpkg knows
# which package owns each file), and ARCH must be the build machine's. With it they come from
# that architecture's packages as foreign-packages.sh unpacked them there.
set -eu
root=${1:?usage: glibc-files.sh IMAGE_ROOT [ARCH [PACKAGES_DIR]]}
arch=${2:-$(dpkg --print-architecture)}
unpacked=${3:-}
case "$arch" in
  amd64) triplet=x86_64-linux-gnu; loader=/lib64/ld-linux-x86-64.so.2 ;;
  arm64) triplet=aarch64-linux-gnu; loader=/lib/ld-linux-aarch64.so.1 ;;
  *) echo "glibc-files.sh: unsupported architecture $arch (amd64 or arm64)" >&2; exit 1 ;;
esac
packages="libc6 zlib1g libstdc++6 libgcc-s1"
# libdl and librt: Netty's epoll library; libstdc++ and libgcc_s: parts of the JDK's native code.
names="libc.so.6 libm.so.6 libz.so.1 libdl.so.2 librt.so.1 libpthread.so.0 libstdc++.so.6 libgcc_s.so.1"
if [ -z "$unpacked" ]; then
  if [ "$arch" != "$(dpkg --print-architecture)" ]; then
    echo "glibc-files.sh: $arch is not this machine's architecture; give the directory foreign-packages.sh unpacked its packages into" >&2
    exit 1
  fi
  for package in $packages; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || {
      echo "glibc-files.sh: Debian package $package is not installed (apt-get install $package)" >&2; exit 1; }
  done
  owned=$(dpkg -L $packages)
  from=
else
  [ -f "$unpacked/packages.txt" ] || {
    echo "glibc-files.sh: $unpacked/packages.txt is missing; run foreign-packages.sh $arch $unpacked first" >&2; exit 1; }
  owned=$(cd "$unpacked" && find lib usr/lib -path "*/$triplet/*" | sed 's|^|/|')
  from=$unpacked
fi
for name in $names; do
  path=
  for candidate in $owned; do
    case "$candidate" in
      /lib/$triplet/$name|/usr/lib/$triplet/$name) path=$candidate; break ;;
    esac
  done
  if [ -z "$path" ]; then
    echo "glibc-files.sh: no package of [$packages] for $arch holds $name" >&2; exit 1
  fi
  mkdir -p "$root/lib/$triplet"
  cp -L "$from$path" "$root/lib/$triplet/$name"
done
mkdir -p "$root$(dirname "$loader")"
cp -L "$from$loader" "$root$loader"
mkdir -p "$root/usr/share/keyturn"
if [ -z "$unpacked" ]; then
  dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' $packages > "$root/usr/share/keyturn/image-packages.txt"
else
  cp "$unpacked/packages.txt" "$root/usr/share/keyturn/image-packages.txt"
fi
