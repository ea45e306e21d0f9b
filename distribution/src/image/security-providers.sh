#!/bin/sh
# Keeps in a jlink runtime's java.security only the security providers whose module the runtime
# has, in the JDK's order, renumbered from 1.
#
#   security-providers.sh RUNTIME_DIR
#
# Why: the JDK loads a provider outside java.base through ServiceLoader and instantiates every
# provider it meets until the name matches; for a provider whose module is missing it meets them
# all, including any a library on the module path brings (Bouncy Castle: ~750 classes).
set -eu
runtime=${1:?usage: security-providers.sh RUNTIME_DIR}
file="$runtime/conf/security/java.security"
# The runtime's own list (jlink writes it), not java --list-modules: the runtime may be of
# another architecture than the build machine's.
modules=$(sed -n 's/^MODULES="\(.*\)"$/\1/p' "$runtime/release" | tr ' ' '\n')
[ -n "$modules" ] || { echo "security-providers.sh: no MODULES line in $runtime/release" >&2; exit 1; }

module_of() {
  case "$1" in
    SUN|SunRsaSign|SunJSSE|SunJCE) echo java.base ;;
    SunEC) echo jdk.crypto.ec ;;
    SunJGSS) echo java.security.jgss ;;
    SunSASL) echo java.security.sasl ;;
    XMLDSig) echo java.xml.crypto ;;
    SunPCSC) echo java.smartcardio ;;
    JdkLDAP) echo java.naming ;;
    JdkSASL) echo jdk.security.jgss ;;
    SunPKCS11) echo jdk.crypto.cryptoki ;;
    *) echo "security-providers.sh: unknown provider \"$1\" in $file; say which module has it" >&2; exit 1 ;;
  esac
}

kept=""
n=0
for name in $(sed -n 's/^security\.provider\.[0-9]*=\([^ ]*\).*$/\1/p' "$file"); do
  module=$(module_of "$name")
  if printf '%s\n' "$modules" | grep -qx "$module"; then
    n=$((n + 1))
    kept="${kept}security.provider.$n=$name
"
  fi
done
[ "$n" -gt 0 ] || { echo "security-providers.sh: no security.provider entries in $file" >&2; exit 1; }
# The kept entries take the place of the first one; the others go.
awk -v kept="$kept" '
  /^security\.provider\.[0-9]+=/ { if (!done) { printf "%s", kept; done = 1 } next }
  { print }' "$file" > "$file.new"
chmod 644 "$file.new"
mv "$file.new" "$file"
echo "security providers of the runtime: $(printf '%s' "$kept" | sed 's/^[^=]*=//' | tr '\n' ' ')"
