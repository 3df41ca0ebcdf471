#!/usr/bin/env bash
# The Debian package: built with CPack from a fresh Release build (prefix
# /usr, no tests: about 20 s on two cores), then read with dpkg-deb, never
# installed. It must carry the daemon, the CLI, the library, the unit, the
# sysusers entry, the example config and the maintainer scripts; the scripts
# must pass shellcheck and give /etc/signet 0750 root:signet and
# /var/lib/signet 0700 signet:signet. The PKCS#11 module must be in p11-kit's
# module directory with its module file, export only C_*, and (as root, in a
# mount namespace of the test's own) show in `p11-kit list-modules`.
set -euo pipefail
: "${SIGNET_SRC_DIR:?}" "${SIGNET_BUILD_DIR:?}"
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
for tool in cpack dpkg-deb dpkg-shlibdeps; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh installs it)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/signet-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
build=$work/build
cmake -S "$SIGNET_SRC_DIR" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release \
	-DSIGNET_BUILD_TESTS=OFF >"$work/configure.log" 2>&1 || fail "configure: $(tail -n 20 "$work/configure.log")"
cmake --build "$build" -j"$(nproc)" >"$work/build.log" 2>&1 || fail "build: $(tail -n 20 "$work/build.log")"
(cd "$build" && cpack -G DEB) >"$work/cpack.log" 2>&1 || fail "cpack: $(tail -n 20 "$work/cpack.log")"
debs=("$build"/signet_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "no single .deb in $build"
deb=${debs[0]}

# contents
dpkg-deb --contents "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/sbin/signetd /usr/bin/signet /etc/signet/signetd.conf.example \
	/lib/systemd/system/signetd.service /usr/lib/sysusers.d/signet.conf \
	/usr/sbin/signet-gatewayd /etc/signet/signet-gatewayd.conf.example \
	/lib/systemd/system/signet-gatewayd.service /usr/lib/sysusers.d/signet-gateway.conf \
	/usr/include/signet/signet.h /usr/share/doc/signet/README.md; do
	grep -qxF "$f" "$work/contents" || fail "$f is not in the package"
done
grep -qE '^/usr/lib/([^/]+/)?libsignet\.so\.[0-9]' "$work/contents" || fail "libsignet.so.N is not in the package"
# the PKCS#11 module where p11-kit and Debian look for modules, and its p11-kit module file
p11mod=$(grep -E '^/usr/lib/([^/]+/)?pkcs11/libsignet-pkcs11\.so$' "$work/contents") ||
	fail "libsignet-pkcs11.so is not in the package under /usr/lib/<triplet>/pkcs11/"
[[ $p11mod == "$(pkg-config --variable=p11_module_path p11-kit-1)/libsignet-pkcs11.so" ]] ||
	fail "$p11mod is not in p11-kit's module directory"
grep -qxF /usr/share/p11-kit/modules/signet.module "$work/contents" || fail "signet.module is not in the package"

# control: maintainer scripts, conffiles, dependencies
dpkg-deb --info "$deb" >"$work/info"
for f in postinst prerm postrm conffiles triggers; do
	grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$f( |$)" "$work/info" || fail "control file $f missing: $(cat "$work/info")"
done
grep -q '^ Depends: .*libssl' "$work/info" || fail "no shared-library dependencies worked out"
grep -q '^ Depends: .*libmicrohttpd' "$work/info" || fail "signet-gatewayd's libmicrohttpd is not a dependency"
dpkg-deb --control "$deb" "$work/control"
grep -qx /etc/signet/signetd.conf.example "$work/control/conffiles" || fail "the example config is not a conffile"
grep -qx /etc/signet/signet-gatewayd.conf.example "$work/control/conffiles" || fail "the gateway's example config is not a conffile"

# maintainer scripts: clean, and setting the modes the issue asks for
if command -v shellcheck >/dev/null; then
	shellcheck -S warning -s sh "$work"/control/{postinst,prerm,postrm} || fail "shellcheck of the maintainer scripts"
fi
p=$work/control/postinst
grep -q 'systemd-sysusers signet.conf' "$p" || fail "postinst does not create the user from sysusers.d"
grep -q 'useradd --system --user-group' "$p" || fail "postinst has no fallback without systemd-sysusers"
grep -q 'chown root:signet "$confdir"' "$p" && grep -q 'chmod 0750 "$confdir"' "$p" &&
	grep -q '^confdir="/etc/signet"$' "$p" || fail "postinst does not make /etc/signet 0750 root:signet"
grep -q 'install -d -o signet -g signet -m 0700 "$statedir"' "$p" &&
	grep -q '^statedir=/var/lib/signet$' "$p" || fail "postinst does not make /var/lib/signet 0700 signet:signet"
grep -q 'try-restart' "$p" || fail "postinst does not restart a running daemon on upgrade"

# the unit and sysusers entry as installed
dpkg-deb -x "$deb" "$work/root"
unit=$work/root/lib/systemd/system/signetd.service
grep -q '@[A-Z_]*@' "$unit" && fail "unconfigured placeholders in the unit"
grep -qx 'ExecStart=/usr/sbin/signetd --config /etc/signet/signetd.conf' "$unit" || fail "ExecStart: $(grep ExecStart= "$unit")"
grep -qx 'User=signet' "$unit" && grep -qx 'LoadCredential=user-pin:/etc/signet/user-pin' "$unit" ||
	fail "the unit does not run as signet with the PIN as a credential"
grep -q '^u signet ' "$work/root/usr/lib/sysusers.d/signet.conf" || fail "sysusers entry"
gwunit=$work/root/lib/systemd/system/signet-gatewayd.service
grep -qx 'ExecStart=/usr/sbin/signet-gatewayd --config /etc/signet/gatewayd.conf' "$gwunit" &&
	grep -qx 'User=signet-gateway' "$gwunit" && grep -qx 'SupplementaryGroups=signet' "$gwunit" ||
	fail "the gateway's unit does not run signet-gatewayd as signet-gateway in group signet"
grep -q '^u signet-gateway ' "$work/root/usr/lib/sysusers.d/signet-gateway.conf" &&
	grep -q '^m signet-gateway signet$' "$work/root/usr/lib/sysusers.d/signet-gateway.conf" ||
	fail "the gateway's sysusers entry"
grep -q 'systemd-sysusers signet-gateway.conf' "$p" || fail "postinst does not create the gateway's user"

# the module exports the Cryptoki entry points and nothing else
nm -D --defined-only "$work/root$p11mod" | awk '{ print $3 }' >"$work/p11syms"
grep -qx C_GetFunctionList "$work/p11syms" || fail "the module does not export C_GetFunctionList"
grep -vq '^C_' "$work/p11syms" && fail "the module exports more than C_*: $(grep -v '^C_' "$work/p11syms" | head -5)"
grep -qx 'module: libsignet-pkcs11.so' "$work/root/usr/share/p11-kit/modules/signet.module" ||
	fail "signet.module does not name the module"
# p11-kit sees it as installed: in a mount namespace of our own (root only), the
# package's module directory and module file are bound over the system's
if ((EUID == 0)) && command -v p11-kit >/dev/null && command -v unshare >/dev/null; then
	unshare -m sh -c 'mount --bind "$1/usr/share/p11-kit/modules" /usr/share/p11-kit/modules &&
		mount --bind "$1$(dirname "$2")" "$(dirname "$2")" && p11-kit list-modules' \
		sh "$work/root" "$p11mod" >"$work/p11kit" 2>&1 || fail "p11-kit list-modules: $(cat "$work/p11kit")"
	grep -q '^signet: libsignet-pkcs11.so' "$work/p11kit" && grep -q 'token: signet' "$work/p11kit" ||
		fail "p11-kit list-modules does not show the module: $(cat "$work/p11kit")"
else
	echo "package: p11-kit list-modules not checked (needs root, unshare and p11-kit)"
fi
echo "package: ok ($(basename "$deb"), $(wc -l <"$work/contents") entries)"
