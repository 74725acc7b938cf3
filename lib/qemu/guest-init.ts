// SPDX-License-Identifier: MIT
// What runs inside the guest: the initramfs's /init (busybox sh), and the per-run spec it sources from the
// run directory. The host and the guest talk only through that directory, shared over 9p: the spec goes in;
// the command's stdout, stderr and the final status come out as files the host reads while they grow.

/** Mount tags of the three 9p shares, as the guest's /init expects them. */
export const SHARE_TAGS = { hostRoot: 'hostroot', cwd: 'cwd', run: 'run' } as const;

/** Module lists in the initramfs, loaded in this order; the run directory is mounted after the first. */
export const MODULE_LISTS = {
  transport: 'etc/drm-gpuvm/10-transport.modules',
  device: 'etc/drm-gpuvm/20-device.modules',
  extra: 'etc/drm-gpuvm/30-extra.modules',
} as const;

/**
 * Where the command finds the modules the guest loaded (name.ko, uncompressed), e.g. to unload and reload
 * vgem with busybox rmmod / insmod. /tmp is a tmpfs inside the guest, so this never touches the host.
 */
export const GUEST_MODULES_DIR = '/tmp/drm-gpuvm-vm/modules';
const GUEST_MODULES_DIR_IN_HOST = `/host${GUEST_MODULES_DIR}`;

/** Prefix of the lines /init writes to the console when it fails before the run directory is mounted. */
export const CONSOLE_FAILURE_MARKER = 'drm-gpuvm-vm-failure:';

// 9p message size: the largest the virtio transport takes; fewer round trips for node's many small reads.
const NINEP = 'trans=virtio,version=9p2000.L,msize=512000';

/**
 * The initramfs's /init. Status lines it leaves in /run/status: `exit N` once the command ran, or
 * `fail KIND MESSAGE`. The launcher inside the chroot writes `notfound` or `nocwd` to fd 3 (/run/launch)
 * when it cannot start the command, so that a command's own 127 is never mistaken for "not found".
 */
export const INIT_SCRIPT = `#!/bin/busybox sh
# /init of the drm-gpuvm VM (generated): load modules, mount the host, run the command, power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# $1 = kind (boot|module), $2 = message. Before /run is mounted only the console can carry it: /dev/kmsg at
# emergency level reaches the console despite "quiet".
fail() {
  if [ -n "$run_mounted" ]; then echo "fail $1 $2" > /run/status; sync; fi
  echo "<0>${CONSOLE_FAILURE_MARKER} $1: $2" > /dev/kmsg
  sleep 1
  poweroff -f
}

# Makes the directory $1 (under /host) writable with a layer of the guest's own over the host's contents:
# an overlay whose upper half lives in the /layers tmpfs, gone at power-off. The layer's root takes the
# host directory's owner and mode. A kernel without overlayfs gets an empty tmpfs there instead.
writable_layer() {
  [ -d "$1" ] || return 0
  layer_n=$((layer_n + 1))
  layer=/layers/$layer_n
  mkdir -p "$layer/lower" "$layer/upper" "$layer/work"
  owner=$(stat -c %u:%g "$1")
  mode=$(stat -c %a "$1")
  mount --bind "$1" "$layer/lower"
  chown "$owner" "$layer/upper" && chmod "$mode" "$layer/upper"
  mount -t overlay overlay -o "lowerdir=$layer/lower,upperdir=$layer/upper,workdir=$layer/work" "$1" 2>/dev/null \
    || { mount -t tmpfs tmpfs "$1" && chown "$owner" "$1" && chmod "$mode" "$1"; }
}

load_list() {
  [ -f "$1" ] || return 0
  while read -r name; do
    [ -n "$name" ] || continue
    if ! out=$(insmod "/lib/modules/$name.ko" 2>&1); then
      fail module "insmod $name failed: $out $(dmesg | tail -n 3 | tr '\\n' ' ')"
    fi
  done < "$1"
}

load_list /${MODULE_LISTS.transport}
mount -t 9p -o ${NINEP} ${SHARE_TAGS.run} /run || fail boot "cannot mount the run directory over 9p (no virtio or 9p support in this kernel?)"
run_mounted=1
[ -f /run/spec.sh ] || fail boot "the run directory holds no spec.sh"
. /run/spec.sh

load_list /${MODULE_LISTS.device}
load_list /${MODULE_LISTS.extra}
set -- /dev/dri/card*
[ -e "$1" ] || fail module "no /dev/dri/card* after loading the modules: this kernel has no vgem"
[ "$vm_uid" = 0 ] || chmod 0666 /dev/dri/*

mount -t 9p -o ${NINEP},ro ${SHARE_TAGS.hostRoot} /host || fail boot "cannot mount the guest's root over 9p"
mkdir -p /layers && mount -t tmpfs tmpfs /layers
# A root of the guest's own (not the host's /) gets one writable layer as a whole.
if [ "$vm_root_layer" = 1 ]; then writable_layer /host; fi
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t debugfs debugfs /host/sys/kernel/debug 2>/dev/null
mount -t devtmpfs devtmpfs /host/dev
# The links udev makes on a host: bash's process substitution, <(...), needs /dev/fd.
ln -s /proc/self/fd /host/dev/fd
ln -s /proc/self/fd/0 /host/dev/stdin
ln -s /proc/self/fd/1 /host/dev/stdout
ln -s /proc/self/fd/2 /host/dev/stderr
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
# /tmp, $HOME and the XDG directories the command's environment names: the host's contents stay visible
# (e.g. a clone under /tmp, npm's cache in $HOME) under a writable layer of the guest's own.
writable_layer /host/tmp
printf '%s\n' "$vm_writable" | while IFS= read -r dir; do
  [ -z "$dir" ] || writable_layer "/host$dir"
done
mkdir -p ${GUEST_MODULES_DIR_IN_HOST} && mount --bind /lib/modules ${GUEST_MODULES_DIR_IN_HOST}
mkdir -p "/host$vm_cwd" 2>/dev/null
mount -t 9p -o ${NINEP} ${SHARE_TAGS.cwd} "/host$vm_cwd" || fail boot "cannot mount the working directory $vm_cwd over 9p"

( run_command ) 3>/run/launch </dev/null >/run/stdout 2>/run/stderr
echo "exit $?" > /run/status
sync
poweroff -f
`;

/**
 * Runs inside the chroot, as the user: `$1` is the working directory, the rest is the command. The checks
 * report through fd 3 and fd 3 is closed before exec, so the command never sees it.
 */
const LAUNCHER = [
  'cd "$1" 2>/dev/null || { echo nocwd >&3; exit 126; }',
  'shift',
  'command -v "$1" >/dev/null 2>&1 || { echo notfound >&3; exit 127; }',
  'exec 3>&-',
  'exec "$@"',
].join('\n');

/** Everything one run needs to tell the guest. */
export interface RunSpec {
  cwd: string;
  uid: number;
  gid: number;
  /** Supplementary group ids of the user (ignored for root). */
  groups: readonly number[];
  env: Readonly<Record<string, string | undefined>>;
  command: readonly string[];
  /** setpriv(1) as the guest's root has it, used to drop to `uid` inside the guest; required when uid is not 0. */
  setprivPath: string | undefined;
  /** True when the guest's root is one of its own (an arm64 userland), which then gets a writable layer as a whole. */
  ownRoot: boolean;
  /** Directories (besides /tmp) that get a writable layer over the host's read-only view (`writableDirs`). */
  writableDirs: readonly string[];
}

/** Renders /run/spec.sh, the file /init sources: the working directory, the writable layers and a run_command function. */
export function renderRunSpec(spec: RunSpec): string {
  if (spec.writableDirs.some((dir) => !dir.startsWith('/') || dir.includes('\n'))) throw new Error('writable directories must be absolute paths without newlines');
  const envArgs = Object.entries(spec.env)
    .filter((e): e is [string, string] => e[1] !== undefined && e[0] !== '' && !e[0].includes('='))
    .map(([k, v]) => shellQuote(`${k}=${v}`));
  const dropPrivileges: string[] = [];
  if (spec.uid !== 0) {
    if (spec.setprivPath === undefined) throw new Error('running as a non-root user needs setprivPath');
    const groups = spec.groups.length > 0 ? `--groups=${spec.groups.join(',')}` : '--clear-groups';
    dropPrivileges.push(shellQuote(spec.setprivPath), `--reuid=${spec.uid}`, `--regid=${spec.gid}`, groups, '--');
  }
  const argv = [
    '/bin/env', '-i', ...envArgs,
    '/bin/chroot', '/host', ...dropPrivileges,
    '/bin/sh', '-c', shellQuote(LAUNCHER), 'drm-gpuvm-vm', shellQuote(spec.cwd), ...spec.command.map(shellQuote),
  ];
  return [
    '# generated by drm-gpuvm vm for one run',
    `vm_cwd=${shellQuote(spec.cwd)}`,
    `vm_uid=${spec.uid}`,
    `vm_root_layer=${spec.ownRoot ? 1 : 0}`,
    `vm_writable=${shellQuote(spec.writableDirs.join('\n'))}`,
    'run_command() {',
    `  exec ${argv.join(' \\\n    ')}`,
    '}',
    '',
  ].join('\n');
}

/** Quotes a string for a POSIX shell so that it comes out as exactly one word, byte for byte. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new TypeError('a shell word cannot contain a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
