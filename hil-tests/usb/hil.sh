#!/usr/bin/env bash
# Boots a QEMU guest with Debian's kernel, dummy_hcd and configfs USB gadgets, runs a job in it
# and exits with the job's exit status. See hil-tests/README.md and notes/usb-hil-qemu.md.
#
#   hil.sh [--quiet] --job JOB.sh [BINARY...]
#
# Knobs: HIL_KPKG (kernel package), HIL_TIMEOUT (s, default 300), HIL_QEMU_ARGS, HIL_APPEND,
# ACCEL=kvm|tcg, HIL_DIR (cache/work dir, default <workspace>/target/hil).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HIL_DIR="${HIL_DIR:-$ROOT/target/hil}"
QUIET=0
JOB=""
BINS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet) QUIET=1; shift ;;
    --job) JOB="$2"; shift 2 ;;
    *) BINS+=("$1"); shift ;;
  esac
done
[ -n "$JOB" ] || { echo "hil.sh: --job JOB.sh is required" >&2; exit 2; }
START=$(date +%s.%N)
step() { [ "$QUIET" = 1 ] || printf 'HIL[%.2fs] %s\n' "$(echo "$(date +%s.%N) - $START" | bc)" "$*" >&2; }
mkdir -p "$HIL_DIR"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
if ! (ldd /bin/busybox 2>&1 || true) | grep -qE 'not a dynamic|statically linked'; then need+=(busybox-static); fi
command -v lsusb >/dev/null || need+=(usbutils)
command -v bc >/dev/null || need+=(bc)
[ -f /usr/include/libusb-1.0/libusb.h ] || need+=(libusb-1.0-0-dev pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  echo "hil.sh: installing ${need[*]}" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

resolve_kpkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}'; }
KPKG="${HIL_KPKG:-$(resolve_kpkg)}"
if [ -z "$KPKG" ]; then
  $SUDO apt-get update -qq >&2   # no package lists yet on this machine
  KPKG="$(resolve_kpkg)"
fi
[ -n "$KPKG" ] || { echo "hil.sh: cannot resolve the kernel package (apt-get update?)" >&2; exit 2; }
KVER="${KPKG#linux-image-}"
KDIR="$HIL_DIR/kernel-$KVER"
if [ ! -d "$KDIR" ]; then
  step "download $KPKG"
  (cd "$HIL_DIR" && rm -f "${KPKG}"_*.deb && apt-get download "$KPKG" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  DEB="$(ls "$HIL_DIR/${KPKG}"_*.deb 2>/dev/null | head -1)"
  [ -f "$DEB" ] || { echo "hil.sh: apt-get download $KPKG failed" >&2; exit 2; }
  step "extract $KPKG"
  rm -rf "$KDIR.tmp" && mkdir -p "$KDIR.tmp"
  M="./lib/modules/$KVER"
  dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$KDIR.tmp" "./boot/vmlinuz-$KVER" "./boot/config-$KVER" \
    "$M/kernel/drivers/usb" "$M/kernel/drivers/hid" "$M/kernel/fs/configfs" "$M/kernel/drivers/input" \
    "$M/modules.order" "$M/modules.builtin"
  mv "$KDIR.tmp" "$KDIR"
  rm -f "$DEB"
fi
for sym in USB_DUMMY_HCD USB_CONFIGFS_F_HID USB_CONFIGFS_F_PRINTER USB_PRINTER USB_HID USB_LIBCOMPOSITE; do
  grep -qE "^CONFIG_${sym}=[ym]" "$KDIR/boot/config-$KVER" || {
    echo "hil.sh: kernel $KVER lacks CONFIG_$sym (the cloud flavour has no USB; use the plain amd64 one)" >&2
    exit 2
  }
done

step "assemble initramfs"
WORK="$(mktemp -d "$HIL_DIR/run.XXXXXX")"
QPID=""
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 143' INT TERM
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,hil/bin,hil/gadgets,lib/modules/$KVER/kernel}
cp /bin/busybox "$R/bin/busybox"
for applet in $("$R/bin/busybox" --list); do
  [ -e "$R/bin/$applet" ] || ln -s busybox "$R/bin/$applet"
done
MODS="drivers/usb/common/usb-common drivers/usb/core/usbcore drivers/usb/class/usblp drivers/hid/hid
  drivers/hid/hid-generic drivers/hid/usbhid/usbhid drivers/input/evdev fs/configfs/configfs drivers/usb/gadget/udc/udc-core
  drivers/usb/gadget/udc/dummy_hcd drivers/usb/gadget/libcomposite drivers/usb/gadget/function/usb_f_hid
  drivers/usb/gadget/function/usb_f_printer ${HIL_EXTRA_MODULES:-}"
for m in $MODS; do
  src="$KDIR/lib/modules/$KVER/kernel/$m.ko"
  [ -f "$src" ] || { echo "hil.sh: module $m missing from $KPKG" >&2; exit 2; }
  mkdir -p "$R/lib/modules/$KVER/kernel/$(dirname "$m")"
  cp "$src" "$R/lib/modules/$KVER/kernel/$m.ko"
done
cp "$KDIR/lib/modules/$KVER/modules.order" "$KDIR/lib/modules/$KVER/modules.builtin" "$R/lib/modules/$KVER/"
"$R/bin/busybox" depmod -b "$R" "$KVER"
copy_with_libs() {
  # Debug info is most of a test binary: without it the initramfs fits the guest's RAM
  # (symbols stay, so backtraces still name functions).
  if command -v strip >/dev/null; then strip --strip-debug -o "$2" "$1"; else cp "$1" "$2"; fi
  for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
    mkdir -p "$R$(dirname "$lib")"
    cp -nL "$lib" "$R$lib"
  done
}
copy_with_libs "$(command -v lsusb)" "$R/usr/bin/lsusb"
for b in "${BINS[@]}"; do copy_with_libs "$b" "$R/hil/bin/$(basename "$b")"; done
cp "$HERE/init" "$R/init" && chmod +x "$R/init"
cp "$HERE/gadgets.sh" "$R/hil/gadgets.sh"
cp "$HERE"/gadgets/*.gadget "$R/hil/gadgets/"
cp "$JOB" "$R/hil/job.sh" && chmod +x "$R/hil/job.sh"
(cd "$R" && find . | "$R/bin/busybox" cpio -o -H newc 2>/dev/null) > "$WORK/initrd.cpio"
step "initramfs $(du -h "$WORK/initrd.cpio" | cut -f1)"

ACCEL_ARGS=(-accel tcg)
want="${ACCEL:-auto}"
if [ "$want" = kvm ] || { [ "$want" = auto ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] &&
     { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; }; then
  ACCEL_ARGS=(-enable-kvm -cpu host,-arch-capabilities)
fi
BIOS=()
[ -f /usr/share/qemu/qboot.rom ] && BIOS=(-bios qboot.rom -vga none)
step "boot guest (${ACCEL_ARGS[*]})"
BOOT=$(date +%s.%N)
# shellcheck disable=SC2086
timeout "${HIL_TIMEOUT:-300}" qemu-system-x86_64 "${ACCEL_ARGS[@]}" -M pc "${BIOS[@]}" \
  -m 512 -smp 2 -nographic -no-reboot -nic none -monitor none -serial stdio \
  -kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.cpio" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init ${HIL_APPEND:-}" ${HIL_QEMU_ARGS:-} \
  </dev/null > "$WORK/guest.raw" 2>&1 &
QPID=$!
if [ "$QUIET" = 1 ]; then
  tail -n +1 -f --pid=$QPID "$WORK/guest.raw" | sed -u 's/\r$//' |
    sed -u -n '/^HIL-RUN-BEGIN$/,/^HIL-EXIT /{/^HIL-RUN-BEGIN$/d;/^HIL-EXIT /d;p}'
else
  tail -n +1 -f --pid=$QPID "$WORK/guest.raw" | sed -u 's/\r$//'
fi
wait $QPID || true
QPID=""
sed 's/\r$//' "$WORK/guest.raw" > "$HIL_DIR/guest.log"
step "guest exited after $(echo "$(date +%s.%N) - $BOOT" | bc | cut -c1-5)s (log: $HIL_DIR/guest.log)"
RC=$(sed -n 's/^HIL-EXIT \([0-9]*\).*/\1/p' "$HIL_DIR/guest.log" | tail -1)
if [ -z "$RC" ]; then
  echo "hil.sh: the guest did not report an exit status; see $HIL_DIR/guest.log" >&2
  tail -20 "$HIL_DIR/guest.log" >&2
  exit 99
fi
exit "$RC"
