#!/usr/bin/env bash
# Regenerates the seed corpora in tests/fuzz/corpus/ (committed; CI only replays them).
# Needs python3 (tarfile), gzip and zstd. Hand-written text seeds are here too so the whole
# corpus is reproducible. Layer seeds are one options byte (see layer_unpack_fuzz.cpp) + the
# stream. Every seed stays well under 20 KB.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus
rm -rf "$out"
mkdir -p "$out"/{spec,signal,reference,manifest,image_config,layer_unpack,image_filters,create_body,api_query}

seed() {  # seed <target> <name> <text>
  printf '%s' "$3" >"$out/$1/$2"
}

# --- spec: runc's defaults when runc is installed, a minimal valid spec, a process.json, and
# inputs each failing one validation rule.
if command -v runc >/dev/null; then
  tmp=$(mktemp -d)
  (cd "$tmp" && runc spec && mv config.json runc.json && runc spec --rootless)
  cp "$tmp/runc.json" "$out/spec/runc_spec.json"
  cp "$tmp/config.json" "$out/spec/runc_spec_rootless.json"
  rm -rf "$tmp"
fi
minimal='{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}},"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}'
seed spec minimal.json "$minimal"
seed spec process.json '{"terminal":false,"user":{"uid":1,"gid":2,"additionalGids":[3]},"args":["ls","-l"],"env":["PATH=/bin"],"cwd":"/tmp","capabilities":{"bounding":["CAP_CHOWN"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true,"oomScoreAdj":100}'
seed spec full.json '{"ociVersion":"1.0.2","hostname":"h","root":{"path":"rootfs","readonly":true},"mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid"]},{"destination":"/data","type":"bind","source":"/srv","options":["rbind","ro"]}],"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0,"umask":18},"consoleSize":{"height":24,"width":80},"apparmorProfile":"p","selinuxLabel":"l"},"linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}],"sysctl":{"net.ipv4.ip_forward":"1"},"resources":{"memory":{"limit":1048576,"swap":2097152},"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0-1"},"pids":{"limit":10},"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]},"cgroupsPath":"/mydocker/x","namespaces":[{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"},{"type":"uts"},{"type":"user"},{"type":"cgroup"}],"devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0}],"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["kill"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":9,"op":"SCMP_CMP_EQ"}]}]},"maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"],"rootfsPropagation":"private"},"hooks":{"prestart":[{"path":"/bin/true","args":["true"],"timeout":5}]},"annotations":{"a":"b"}}'
seed spec bad_cap.json '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0},"capabilities":{"bounding":["CAP_FOO"]}}}'
seed spec bad_namespace.json '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"pid"},{"type":"pid"},{"type":"bogus"}]}}'
seed spec bad_types.json '{"ociVersion":2,"root":[],"process":{"cwd":"relative","args":"sh","user":{"uid":-1}},"mounts":{}}'
seed spec bad_rlimit.json '{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0},"rlimits":[{"type":"RLIMIT_BOGUS","hard":1,"soft":2}]}}'
seed spec truncated.json "${minimal:0:90}"
seed spec not_json.txt 'ociVersion: 1.0.2'
seed spec empty.json ''

# --- signal
for s in SIGTERM term 9 15 SIGRTMIN RTMIN+3 SIGRTMAX-2 sigchld IOT 0 65 99999999999999999999 SIGFOO RTMIN+31 RTMIN-1 + ''; do
  name=$(printf '%s' "$s" | tr -c 'A-Za-z0-9' '_')
  seed signal "sig_${name:-empty}" "$s"
done

# --- reference: whole input = a reference; lines = (name, tag, digest) / (pattern, name).
hex=$(printf 'a%.0s' $(seq 64))
seed reference plain 'ubuntu'
seed reference tagged 'ubuntu:14.04'
seed reference registry 'localhost:5000/foo/bar:v1'
seed reference ipv6 '[::1]:5000/foo@sha256:'"$hex"
seed reference digest 'docker.io/library/busybox:latest@sha256:'"$hex"
seed reference upper 'Foo/bar'
seed reference hexname "$hex"
seed reference long "$(printf 'a%.0s' $(seq 300))"
seed reference badtag 'foo:-bad'
seed reference parts $'busybox\nlatest\nsha256:'"$hex"
seed reference glob $'busy*:lat?st\nbusybox:latest'
seed reference badglob $'[a-\nabc'
seed reference escape $'a\\*\\[b\na*[b'

# --- manifest / index
cfg_digest="sha256:$hex"
seed manifest docker_schema2.json '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"'"$cfg_digest"'"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2479,"digest":"'"$cfg_digest"'"}]}'
seed manifest oci_manifest.json '{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":7,"digest":"'"$cfg_digest"'","annotations":{"k":"v"}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","size":1,"digest":"'"$cfg_digest"'","urls":["https://x"]}],"annotations":{"org.opencontainers.image.ref.name":"1"},"subject":{"x":1}}'
seed manifest oci_index.json '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"'"$cfg_digest"'","platform":{"architecture":"arm64","os":"linux","variant":"v8","os.features":["a"]}}]}'
seed manifest manifest_list.json '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":7,"digest":"'"$cfg_digest"'","platform":{"architecture":"amd64","os":"linux"}}]}'
seed manifest schema1.json '{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}'
seed manifest bad_digest.json '{"schemaVersion":2,"config":{"mediaType":"a/b","size":1,"digest":"sha256:xyz"},"layers":[]}'
seed manifest bad_size.json '{"schemaVersion":2,"config":{"mediaType":"a/b","size":-1,"digest":"'"$cfg_digest"'"},"layers":null}'
seed manifest not_object.json '[1,2,3]'
seed manifest truncated.json '{"schemaVersion":2,"manifests":[{"mediaType":"a'

# --- image config
seed image_config docker.json '{"architecture":"amd64","config":{"Hostname":"","User":"1:2","ExposedPorts":{"80/tcp":{}},"Env":["PATH=/bin"],"Cmd":null,"Entrypoint":["/bin/sh","-c"],"Volumes":{"/data":{}},"WorkingDir":"/w","Labels":{"a":"b"},"StopSignal":"SIGTERM","Healthcheck":{"Test":["CMD","true"]},"OnBuild":null},"container":"abc","created":"2026-11-29T17:11:48.138651832Z","docker_version":"20.10","history":[{"created":"2026-11-29T17:11:48Z","created_by":"/bin/sh -c #(nop) ADD file","empty_layer":true,"comment":"c"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["'"$cfg_digest"'"]}}'
seed image_config oci.json '{"created":"2015-10-31T22:22:56.015925234+01:00","author":"a","architecture":"arm64","variant":"v8","os":"linux","os.version":"1","os.features":["x"],"config":{"User":"alice","Env":[],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}'
seed image_config import_empty.json '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"config":null}'
seed image_config bad_rootfs.json '{"architecture":"amd64","os":"linux","rootfs":{"type":"foo","diff_ids":["sha256:zz"]}}'
seed image_config bad_env.json '{"architecture":"amd64","os":"linux","config":{"Env":3},"rootfs":{"type":"layers","diff_ids":[]}}'
seed image_config bad_created.json '{"created":"yesterday","architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
seed image_config time_offset '9999-12-31T23:59:60.999999999-23:59'
seed image_config time_year0 '0000-01-01T00:00:00+01:00'
seed image_config time_plain '2026-02-31T10:11:12.5Z'

# --- image store filters: lines key=value
seed image_filters empty ''
seed image_filters dangling $'dangling=true'
seed image_filters dangling_bad $'dangling=maybe\ndangling=false'
seed image_filters labels $'label=a\nlabel=a=1\nlabel!=maintainer'
seed image_filters before_since $'before=busybox\nsince=ubuntu@sha256:'"$hex"
seed image_filters id_prefix $'before=sha256:a\nsince=0'
seed image_filters reference $'reference=busy*\nreference=localhost:5000/*/*:v?'
seed image_filters reference_bad $'reference=[z-'
seed image_filters until_rfc3339 $'until=2025-06-01T00:00:00Z\ndangling=false'
seed image_filters until_duration $'until=1h30m\nlabel=a'
seed image_filters until_huge $'until=9223372036854775807h'
seed image_filters until_unix $'until=1700000000.5'
seed image_filters unknown_key $'foo=bar'

# --- layers
python3 - "$out/layer_unpack" <<'PY'
import io, os, sys, tarfile

out = sys.argv[1]

def member(tf, name, kind="file", data=b"", link="", mode=None, uid=0, gid=0, pax=None):
    ti = tarfile.TarInfo(name)
    ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
               "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}[kind]
    ti.linkname = link
    ti.mode = mode if mode is not None else (0o755 if kind == "dir" else 0o644)
    ti.uid, ti.gid = uid, gid
    ti.mtime = 1700000000
    if pax:
        ti.pax_headers = pax
    if kind == "file":
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)

def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            member(tf, *e[:2], **e[2] if len(e) > 2 else {})
    # tarfile pads to a 10 KiB record; keep only the end-of-archive blocks (tar readers
    # accept that) so the seeds stay small.
    data = buf.getvalue().rstrip(b"\0")
    data += bytes(-len(data) % 512)
    return data + bytes(1024)

def write(name, flags, stream):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([flags]) + stream)

valid = tar([
    ("etc", "dir"),
    ("etc/hostname", "file", {"data": b"box\n"}),
    ("etc/setuid", "file", {"data": b"#!/bin/sh\n", "mode": 0o4755}),
    ("etc/owned", "file", {"data": b"x", "uid": 1000, "gid": 1000}),
    ("bin", "dir"),
    ("bin/sh", "file", {"data": b"\x7fELF" + bytes(64)}),
    ("bin/ash", "hard", {"link": "bin/sh"}),
    ("bin/link", "sym", {"link": "/bin/sh"}),
    ("tmp", "dir", {"mode": 0o1777}),
    ("tmp/fifo", "fifo"),
    ("dev", "dir"),
    ("dev/null", "chr"),
    ("xattrs", "file", {"data": b"x", "pax": {"SCHILY.xattr.user.test": "v",
                                             "SCHILY.xattr.trusted.overlay.opaque": "y"}}),
    ("closed", "dir", {"mode": 0o000}),
    ("closed/inner", "file", {"data": b"in"}),
])
whiteouts = tar([
    ("etc", "dir"),
    ("etc/.wh.passwd", "file"),
    ("etc/sub/.wh..wh..opq", "file"),
    ("etc/sub/new", "file", {"data": b"upper"}),
    (".wh.escape", "file"),
])
write("valid_keep.tar", 0x00, valid)
write("valid_overlay_owners.tar", 0x06, valid)
write("valid_manual_walk.tar", 0x10, valid)
write("whiteouts_apply.tar", 0x01, whiteouts)
write("whiteouts_overlay.tar", 0x02, whiteouts)
write("whiteouts_apply_manual.tar", 0x11, whiteouts)
with open(os.path.join(out, "..", "..", "valid.tar"), "wb") as f:
    f.write(valid)

# Traversal attempts: each must be refused or land inside the root.
attacks = {
    "dotdot": [("../escape", "file", {"data": b"x"})],
    "dotdot_inner": [("a/../../escape", "file", {"data": b"x"})],
    "absolute": [("/etc/escape", "file", {"data": b"x"})],
    "symlink_root": [("evil", "sym", {"link": "/"}), ("evil/escape", "file", {"data": b"x"})],
    "symlink_up": [("up", "sym", {"link": "../../.."}), ("up/escape", "file", {"data": b"x"})],
    "symlink_chain": [("a", "sym", {"link": "b"}), ("b", "sym", {"link": ".."}),
                      ("a/escape", "file", {"data": b"x"})],
    "dir_then_symlink": [("d", "dir"), ("d", "sym", {"link": ".."}),
                         ("d/escape", "file", {"data": b"x"})],
    "symlink_dir_entry": [("s", "sym", {"link": "/tmp"}), ("s/sub", "dir")],
    "hardlink_host": [("passwd", "hard", {"link": "/etc/passwd"})],
    "hardlink_dotdot": [("h", "hard", {"link": "../outside"})],
    "hardlink_via_symlink": [("evil", "sym", {"link": "/"}), ("h", "hard", {"link": "evil/etc/passwd"})],
    "whiteout_dotdot": [("a", "dir"), ("a/.wh...", "file"), (".wh..", "file")],
    "whiteout_empty": [(".wh.", "file"), ("x/.wh..wh..opq", "file")],
    "replace_root": [(".", "sym", {"link": "/"}), ("./escape", "file", {"data": b"x"})],
    "symlink_overwrite": [("f", "sym", {"link": "../escape"}), ("f", "file", {"data": b"x"})],
}
for name, entries in attacks.items():
    write(f"attack_{name}.tar", 0x00, tar(entries))
    write(f"attack_{name}_manual_apply.tar", 0x11, tar(entries))

# Malformed streams.
write("empty", 0x00, b"")
write("garbage", 0x00, b"not a tar at all\n" * 4)
write("truncated.tar", 0x00, valid[:700])
write("zero_blocks.tar", 0x00, bytes(1024))
write("bad_checksum.tar", 0x00, valid[:148] + b"99999999" + valid[156:1024])
PY
gzip -9n <"$out/../valid.tar" | { printf '\x00'; cat; } >"$out/layer_unpack/valid.tar.gz"
zstd -19 -q -c "$out/../valid.tar" | { printf '\x04'; cat; } >"$out/layer_unpack/valid.tar.zst"
gzip -9n <"$out/../valid.tar" | head -c 200 | { printf '\x00'; cat; } >"$out/layer_unpack/truncated.tar.gz"
zstd -19 -q -c "$out/../valid.tar" | head -c 100 | { printf '\x00'; cat; } >"$out/layer_unpack/truncated.tar.zst"
printf '\x1f\x8b\x08\x00garbage' | { printf '\x00'; cat; } >"$out/layer_unpack/bad.gz"
rm -f "$out/../valid.tar"

# --- create_body: the create bodies of the dockerd transcripts (024-038), a body using every
# typed field, and bodies failing one value check each.
seed create_body 024-post-container-create-minimal.json '{"Image":"busybox","Cmd":["true"]}'
seed create_body 025-post-container-create-named.json '{"Image":"busybox","Cmd":["sh","-c","trap '"'"'exit 0'"'"' TERM; while :; do sleep 1; done"],"Labels":{"tx-label":"1"},"StopTimeout":3}'
seed create_body 026-post-container-create-resources.json '{"Image":"busybox","Cmd":["sh","-c","trap '"'"'exit 0'"'"' TERM; while :; do sleep 1; done"],"Labels":{"tx-label":"2"},"HostConfig":{"Memory":67108864,"MemorySwap":134217728,"NanoCpus":500000000,"CpuShares":512,"PidsLimit":64,"BlkioWeight":300,"Ulimits":[{"Name":"nofile","Soft":1024,"Hard":2048}],"RestartPolicy":{"Name":"","MaximumRetryCount":0},"Init":true}}'
seed create_body 027-post-container-create-invalid-json.json '{"Image":"busybox","Cmd":["true"]'
seed create_body 028-post-container-create-wrong-type.json '{"Image":123}'
seed create_body 033-post-container-create-no-cmd.json '{"Image":"busybox"}'
seed create_body 035-post-container-create-duplicate-name.json '{"Image":"busybox","Cmd":["true"]}'
seed create_body 036-post-container-create-bad-name.json '{"Image":"busybox","Cmd":["true"]}'
seed create_body 037-post-container-create-memory-too-small.json '{"Image":"busybox","Cmd":["true"],"HostConfig":{"Memory":1000}}'
seed create_body 038-post-container-create-unknown-field.json '{"Image":"busybox","Cmd":["true"],"NoSuchField":42}'
seed create_body autoremove_restart.json '{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"always"},"AutoRemove":true}}'
seed create_body bad_env_workdir.json '{"Image":"busybox","Env":["=x"],"WorkingDir":"rel"}'
seed create_body full.json '{"Hostname":"h","Domainname":"d","User":"1:2","AttachStdout":true,"Tty":true,"OpenStdin":true,"Env":["A=1","B"],"Cmd":["sh"],"Entrypoint":[""],"Image":"busybox","WorkingDir":"/w","Labels":{"a":"b"},"StopSignal":"SIGUSR1","StopTimeout":3,"ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},"HostConfig":{"Memory":10000000,"MemorySwap":-1,"MemoryReservation":5000000,"CpuPeriod":100000,"CpuQuota":50000,"CpusetCpus":"0","CpusetMems":"0","PidsLimit":-1,"Ulimits":[{"Name":"nproc","Soft":10,"Hard":20}],"Privileged":false,"ReadonlyRootfs":true,"CapAdd":["net_admin","CAP_SYS_TIME"],"CapDrop":["ALL"],"SecurityOpt":["no-new-privileges:true","seccomp=unconfined"],"Tmpfs":{"/run":"rw,size=64m"},"Init":true,"ShmSize":1048576,"AutoRemove":false,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"LogConfig":{"Type":"json-file","Config":{"max-size":"1m","max-file":"2"}},"NetworkMode":"none","Dns":["1.1.1.1"]},"NetworkingConfig":{"EndpointsConfig":{}}}'
seed create_body memory_string.json '{"Image":"busybox","HostConfig":{"Memory":"lots"}}'

# --- api_query: query strings (with and without bad escapes, overflow, ';') and filters
# JSON in both forms.
seed api_query bad_escape.txt 'filters=%zz&t=abc&force=none'
seed api_query filters_new.json '{"label":["a=1","b"],"status":["running"]}'
seed api_query filters_old.json '{"label":{"a=1":true},"dangling":{"true":true}}'
seed api_query list.txt 'all=1&limit=10&size=true&filters=%7B%22status%22%3A%5B%22exited%22%5D%7D'
seed api_query semicolon_overflow.txt 'a=1;b=2&c=%20+x&t=99999999999999999999'
seed api_query truncated.json '{"label":'

find "$out" -type f -size +20k -print | while read -r f; do
  echo "make_seeds: $f is over 20 KB" >&2
  exit 1
done
echo "make_seeds: $(find "$out" -type f | wc -l) seeds"
