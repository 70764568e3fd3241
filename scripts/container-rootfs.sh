#!/bin/sh
# Assemble the root filesystem of Herald's container image into a directory, without podman:
# the binary, the shared libraries it loads (from ldd), a non-root user and /data.
#
#   scripts/container-rootfs.sh BINARY ROOTFS
#
# The same directory is the build context of the Containerfile (`FROM scratch`, `COPY . /`):
#   cargo build --release -p herald
#   scripts/container-rootfs.sh target/release/herald build/rootfs
#   podman build -f Containerfile -t herald build/rootfs
# and it runs as it is with chroot (crates/herald/tests/container.rs does):
#   chroot --userspec=10001:10001 build/rootfs /usr/local/bin/herald serve
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BINARY ROOTFS" >&2
    exit 2
fi
binary=$1
rootfs=$2

if [ -e "$rootfs" ] && [ -n "$(ls -A "$rootfs")" ]; then
    echo "$rootfs is not empty" >&2
    exit 1
fi
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/data" "$rootfs/tmp"
cp "$binary" "$rootfs/usr/local/bin/herald"
chmod 0755 "$rootfs/usr/local/bin/herald"

# Every library the dynamic loader maps for the binary, at the path it is found at, plus the
# loader itself (the line without "=>"). Symlinks are copied as the files they point to.
ldd "$binary" | while read -r first second third _; do
    case "$second" in
        "=>") lib=$third ;;
        *) lib=$first ;;
    esac
    case "$lib" in
        /*)
            mkdir -p "$rootfs$(dirname "$lib")"
            cp -L "$lib" "$rootfs$lib"
            ;;
    esac
done

# A non-root user owning /data; nothing else is writable but /tmp.
cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
herald:x:10001:10001:Herald:/data:/sbin/nologin
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
herald:x:10001:
GROUP
# Host names (the database, NATS) through /etc/hosts and DNS; the container runtime provides
# both files.
echo "hosts: files dns" > "$rootfs/etc/nsswitch.conf"
: > "$rootfs/etc/hosts"
: > "$rootfs/etc/resolv.conf"
chown 10001:10001 "$rootfs/data" 2>/dev/null || true
chmod 0750 "$rootfs/data"
chmod 1777 "$rootfs/tmp"
echo "rootfs ready in $rootfs ($(du -sh "$rootfs" | cut -f1))"
