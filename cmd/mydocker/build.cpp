// SPDX-License-Identifier: Apache-2.0
// `mydocker build [OPTIONS] PATH | URL | -` (also `image build`, `builder build`) and `mydocker
// builder prune`, as the docker CLI's classic builder path (DOCKER_BUILDKIT=0) does them:
//  - the context (build_context.h) is streamed as a chunked tar body with "Sending build
//    context to Docker daemon  2.048kB" (updated every 512 KiB on a terminal, printed once at
//    the end otherwise, as docker's lastProgressOutput);
//  - the daemon's JSON messages are printed as they come (progress.h: step text as is, base
//    image pulls as pull shows them);
//  - an error in the stream goes to stderr and the exit status is its code (a failed RUN's
//    exit status) or 1; with -q nothing but the image ID is printed, the buffered output going
//    to stderr on failure;
//  - --iidfile is removed first and written with the image ID on success.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/client/auth.h"
#include "cmd/mydocker/build_context.h"
#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/opts.h"
#include "cmd/mydocker/progress.h"
#include "cmd/mydocker/tty.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::cli {
namespace {

using base::ErrorCode;
using Json = nlohmann::json;

struct BuildFlags {
  std::string context;
  std::vector<std::string> tags;
  std::string file;
  std::vector<std::string> build_args;
  std::string target;
  bool no_cache = false;
  bool pull = false;
  std::vector<std::string> labels;
  bool quiet = false;
  bool rm = true;
  bool force_rm = false;
  std::string network = "default";
  std::vector<std::string> add_hosts;
  std::string platform;
  std::string iidfile;
  std::vector<std::string> cache_from;
  // The RUN containers' resources, as given (parsed in resources()).
  std::string memory;
  std::string memory_swap;
  std::string shm_size;
  std::string cpu_shares;
  std::string cpu_period;
  std::string cpu_quota;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::string cgroup_parent;
  std::string isolation;
  std::vector<std::string> ulimits;
  bool compress = false;
};

base::Error bad_flag(std::string_view flag, std::string_view value, std::string_view why) {
  return base::make_error(ErrorCode::InvalidArgument, "invalid argument \"{}\" for \"{}\" flag: {}",
                          value, flag, why);
}

// docker's flag types for the resource flags (opts.MemBytes, MemSwapBytes, Int64, UlimitOpt):
// the same values and, for a bad one, the same "invalid argument ... flag: ..." text.
base::Result<void> resources(const BuildFlags& f, api::client::BuildOptions& o) {
  auto bytes = [](std::string_view flag, const std::string& v, int64_t& out) -> base::Result<void> {
    if (v.empty()) {
      return base::ok();
    }
    auto n = parse_ram_bytes(v);
    if (!n) {
      return bad_flag(flag, v, n.error().message());
    }
    out = *n;
    return base::ok();
  };
  auto integer = [](std::string_view flag, const std::string& v,
                    int64_t& out) -> base::Result<void> {
    if (v.empty()) {
      return base::ok();
    }
    auto n = base::parse_int64(v);
    if (!n) {
      bool digits = v.find_first_not_of("0123456789", v[0] == '-' || v[0] == '+' ? 1 : 0) ==
                        std::string::npos &&
                    v.size() > (v[0] == '-' || v[0] == '+' ? 1u : 0u);
      return bad_flag(flag, v,
                      fmt::format("strconv.ParseInt: parsing \"{}\": {}", v,
                                  digits ? "value out of range" : "invalid syntax"));
    }
    out = *n;
    return base::ok();
  };
  MYDOCKER_TRY(bytes("-m, --memory", f.memory, o.memory));
  if (f.memory_swap == "-1") {
    o.memory_swap = -1;
  } else {
    MYDOCKER_TRY(bytes("--memory-swap", f.memory_swap, o.memory_swap));
  }
  MYDOCKER_TRY(bytes("--shm-size", f.shm_size, o.shm_size));
  MYDOCKER_TRY(integer("-c, --cpu-shares", f.cpu_shares, o.cpu_shares));
  MYDOCKER_TRY(integer("--cpu-period", f.cpu_period, o.cpu_period));
  MYDOCKER_TRY(integer("--cpu-quota", f.cpu_quota, o.cpu_quota));
  o.cpuset_cpus = f.cpuset_cpus;
  o.cpuset_mems = f.cpuset_mems;
  o.cgroup_parent = f.cgroup_parent;
  o.isolation = f.isolation;
  for (const auto& u : f.ulimits) {
    auto j = parse_ulimit(u);
    if (!j) {
      return bad_flag("--ulimit", u, j.error().message());
    }
    // UlimitOpt keeps one value per name, the last given.
    std::erase_if(o.ulimits, [&](const Json& x) { return x["Name"] == (*j)["Name"]; });
    o.ulimits.push_back(std::move(*j));
  }
  return base::ok();
}

// Where docker's progBuff/buildBuff go: stdout, or (quiet) a buffer.
struct Out {
  bool quiet = false;
  std::string buffer;
  void write(std::string_view s) {
    if (quiet) {
      buffer.append(s);
    } else {
      write_out(s);
    }
  }
};

// docker's NewProgressReader(..., "Sending build context to Docker daemon") through a raw
// progress formatter: "<action> <%8v size>\r", and "\r\n" after the last update.
class SendProgress {
 public:
  SendProgress(Out& out, bool tty) : out_(out), tty_(tty) {}
  void update(uint64_t current, bool last) {
    if (!last && (!tty_ || current - reported_ <= kEvery)) {
      return;
    }
    reported_ = current;
    std::string size = current == 0 ? "" : human_size(static_cast<double>(current), 4);
    if (!size.empty() && size.size() < 8) {
      size = std::string(8 - size.size(), ' ') + size;
    }
    std::string line =
        "Sending build context to Docker daemon " + size + (size.empty() ? "\r\n" : "\r");
    if (last) {
      line += "\r\n";
    }
    out_.write(line);
  }

 private:
  static constexpr uint64_t kEvery = 512 * 1024;
  Out& out_;
  bool tty_;
  uint64_t reported_ = 0;
};

bool is_url(std::string_view s) {
  return s.starts_with("http://") || s.starts_with("https://");
}

bool is_git_url(std::string_view s) {
  return s.starts_with("git://") || s.starts_with("git@") || s.starts_with("github.com/") ||
         (is_url(s) && (s.ends_with(".git") || s.find(".git#") != std::string_view::npos));
}

base::Result<std::string> read_all_fd(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("read standard input");
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

// Up to `n` bytes (fewer only at EOF).
base::Result<std::string> read_prefix(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, out.data() + got, n - got);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("failed to peek context header from STDIN");
    }
    if (r == 0) {
      break;
    }
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

// X-Registry-Config: every credential of the config file, keyed as there (docker's
// GetAllCredentials; errors leave it empty as docker ignores them).
std::string registry_config() {
  Json all = Json::object();
  auto path = api::client::config_file_path([](const char* n) { return get_env(n); });
  if (path) {
    if (auto cfg = api::client::ConfigFile::load(*path)) {
      const auto& doc = cfg->document();
      if (auto auths = doc.find("auths"); auths != doc.end() && auths->is_object()) {
        for (const auto& [key, v] : auths->items()) {
          if (auto a = cfg->get(key)) {
            all[key] = Json::parse(a->to_json().dump());
          }
        }
      }
    }
  }
  return api::client::base64_encode(all.dump(), true);
}

// --build-arg NAME takes NAME's value from the environment; without it NAME is sent with a
// null value (docker's ValidateEnv + ConvertKVStringsToMapWithNil).
base::Result<std::map<std::string, std::optional<std::string>>> build_args(
    const std::vector<std::string>& args) {
  std::map<std::string, std::optional<std::string>> out;
  for (const auto& a : args) {
    size_t eq = a.find('=');
    std::string k = a.substr(0, eq);
    if (k.empty()) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid environment variable: {}", a);
    }
    if (eq != std::string::npos) {
      out[k] = a.substr(eq + 1);
    } else if (auto v = get_env(k)) {
      out[k] = *v;
    } else {
      out[k] = std::nullopt;
    }
  }
  return out;
}

// docker's --compress: the context tar through gzip at the default level (its
// archive.CompressStream), read as it is produced.
class GzipReader {
 public:
  using Read = std::function<base::Result<size_t>(char*, size_t)>;
  explicit GzipReader(Read in) : in_(std::move(in)), buf_(64 * 1024) {
    ok_ = ::deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK;
  }
  GzipReader(const GzipReader&) = delete;  // z_ points at itself
  GzipReader& operator=(const GzipReader&) = delete;
  ~GzipReader() {
    if (ok_) {
      ::deflateEnd(&z_);
    }
  }

  base::Result<size_t> read(char* out, size_t len) {
    if (!ok_) {
      return base::make_error(ErrorCode::Internal, "start gzip compression of the build context");
    }
    len = std::min<size_t>(len, 1u << 30);
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(len);
    while (z_.avail_out == len && !done_) {
      if (z_.avail_in == 0 && !eof_) {
        size_t n = MYDOCKER_TRY(in_(buf_.data(), buf_.size()));
        eof_ = n == 0;
        z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
        z_.avail_in = static_cast<uInt>(n);
      }
      int r = ::deflate(&z_, eof_ ? Z_FINISH : Z_NO_FLUSH);
      if (r == Z_STREAM_END) {
        done_ = true;
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        return base::make_error(ErrorCode::Internal, "gzip the build context: deflate error {}", r);
      }
    }
    return len - z_.avail_out;
  }

 private:
  Read in_;
  std::vector<char> buf_;
  z_stream z_{};
  bool ok_ = false;
  bool eof_ = false;
  bool done_ = false;
};

// The request body and the dockerfile query value for the context argument.
struct Body {
  std::function<base::Result<size_t>(char*, size_t)> read;
  std::string dockerfile;
};

base::Result<Body> prepare_body(const BuildFlags& f) {
  int64_t now = unix_now();
  if (f.context == "-") {
    std::string head = MYDOCKER_TRY(read_prefix(STDIN_FILENO, 512));
    if (is_archive(head)) {
      // Sent as it is: the daemon detects compression.
      auto pending = std::make_shared<std::string>(std::move(head));
      Body b;
      b.dockerfile = f.file;
      b.read = [pending](char* buf, size_t len) -> base::Result<size_t> {
        if (!pending->empty()) {
          size_t n = std::min(len, pending->size());
          std::memcpy(buf, pending->data(), n);
          pending->erase(0, n);
          return n;
        }
        for (;;) {
          ssize_t n = ::read(STDIN_FILENO, buf, len);
          if (n < 0 && errno == EINTR) {
            continue;
          }
          if (n < 0) {
            return base::sys_error("read standard input");
          }
          return static_cast<size_t>(n);
        }
      };
      return b;
    }
    std::string text = head + MYDOCKER_TRY(read_all_fd(STDIN_FILENO));
    auto tar = std::make_shared<TarStream>(dockerfile_only_context(std::move(text), now));
    Body b;
    b.dockerfile = "Dockerfile";
    b.read = [tar](char* buf, size_t len) { return tar->read(buf, len); };
    return b;
  }
  LocalContext lc = MYDOCKER_TRY(plan_local_context(f.context, f.file));
  Body b;
  b.dockerfile = lc.dockerfile;
  if (lc.dockerfile == "-" || lc.dockerfile.starts_with("../")) {
    std::string text;
    if (lc.dockerfile == "-") {
      text = MYDOCKER_TRY(read_all_fd(STDIN_FILENO));
    } else {
      auto t = base::read_file(f.file);
      if (!t) {
        return base::make_error(ErrorCode::InvalidArgument, "unable to open Dockerfile: {}",
                                t.error().message());
      }
      text = std::move(*t);
    }
    b.dockerfile = random_dockerfile_name();
    add_dockerfile(lc.entries, b.dockerfile, std::move(text), now);
  }
  auto tar = std::make_shared<TarStream>(std::move(lc.entries));
  b.read = [tar](char* buf, size_t len) { return tar->read(buf, len); };
  return b;
}

int run_build(const Globals& g, const BuildFlags& f) {
  api::client::BuildOptions o;
  if (auto r = resources(f, o); !r) {
    // A flag error, as docker's flag parsing reports it (before anything else).
    write_err(r.error().message() + "\nSee 'mydocker build --help'.\n");
    return 125;
  }
  // DetectContextType, in docker's order.
  bool stdin_context = f.context == "-";
  struct stat st {};
  bool local = !stdin_context && ::stat(f.context.c_str(), &st) == 0;
  if (!stdin_context && !local) {
    if (is_git_url(f.context) || is_url(f.context)) {
      return report(base::make_error(
          ErrorCode::NotImplemented,
          "unable to prepare context: URL build contexts ({}) are not supported by mydocker "
          "yet: give a directory, or - with a tar on standard input",
          f.context));
    }
    return report(base::make_error(ErrorCode::InvalidArgument,
                                   "unable to prepare context: path \"{}\" not found", f.context));
  }
  if (stdin_context && f.file == "-") {
    return report(base::make_error(
        ErrorCode::InvalidArgument,
        "invalid argument: can't use stdin for both build context and dockerfile"));
  }
  if (!f.iidfile.empty() && ::unlink(f.iidfile.c_str()) != 0 && errno != ENOENT) {
    return report(
        base::make_error(ErrorCode::Internal, "Removing image ID file: {}", std::strerror(errno)));
  }
  o.tags = f.tags;
  auto args = build_args(f.build_args);
  if (!args) {
    return report(args.error());
  }
  o.build_args = std::move(*args);
  for (const auto& l : f.labels) {
    size_t eq = l.find('=');
    o.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  o.target = f.target;
  o.no_cache = f.no_cache;
  o.pull = f.pull;
  o.quiet = f.quiet;
  o.remove = f.rm;
  o.force_remove = f.force_rm;
  o.network_mode = f.network;
  o.extra_hosts = f.add_hosts;
  o.platform = f.platform;
  o.cache_from = f.cache_from;

  auto c = make_client(g);
  if (!c) {
    return report(c.error());
  }
  auto body = prepare_body(f);
  if (!body) {
    return report(body.error());
  }
  o.dockerfile = body->dockerfile;
  if (f.compress) {
    auto gz = std::make_shared<GzipReader>(std::move(body->read));
    body->read = [gz](char* buf, size_t len) { return gz->read(buf, len); };
  }
  o.registry_config = registry_config();

  Out prog;  // docker's progBuff and buildBuff
  Out out;
  prog.quiet = out.quiet = f.quiet;
  bool tty = is_terminal(STDOUT_FILENO);
  SendProgress progress(prog, tty);
  uint64_t sent = 0;
  bool ended = false;
  auto source = [&](char* buf, size_t len) -> base::Result<size_t> {
    size_t n = MYDOCKER_TRY(body->read(buf, len));
    sent += n;
    if (n == 0 && !ended) {
      ended = true;
      progress.update(sent, true);
    } else if (n > 0) {
      progress.update(sent, false);
    }
    return n;
  };
  int width = 200;
  if (auto size = tty ? terminal_size(STDOUT_FILENO) : std::nullopt) {
    width = size->second;
  }
  ProgressRenderer renderer(tty && !f.quiet, width);
  auto r = c->build(o, source, [&](const Json& m) { out.write(renderer.render(m)); });
  if (!r) {
    if (f.quiet) {
      write_err(prog.buffer);
    }
    return report(r.error());
  }
  if (r->error) {
    if (f.quiet) {
      write_err(prog.buffer + out.buffer);
    }
    write_err(*r->error + "\n");
    return r->error_code != 0 ? static_cast<int>(r->error_code) : 1;
  }
  std::string image_id = r->image_id;
  if (f.quiet) {
    // The daemon's answer is the ID line itself (166); docker prints what it got.
    write_out(out.buffer);
    image_id = out.buffer;
  }
  if (!f.iidfile.empty()) {
    if (image_id.empty()) {
      return report(base::make_error(
          ErrorCode::Internal, "Server did not provide an image ID. Cannot write {}", f.iidfile));
    }
    if (auto w = base::write_file(f.iidfile, image_id, O_CREAT); !w) {
      return report(w.error());
    }
  }
  return 0;
}

void add_build_flags(CLI::App* sub, BuildFlags& f) {
  sub->add_option("PATH", f.context, "PATH | URL | -")->required();
  add_multi(sub, "-t,--tag", f.tags, "Name and optionally a tag in the 'name:tag' format");
  sub->add_option("-f,--file", f.file, "Name of the Dockerfile (Default is 'PATH/Dockerfile')");
  add_multi(sub, "--build-arg", f.build_args, "Set build-time variables");
  sub->add_option("--target", f.target, "Set the target build stage to build.");
  sub->add_flag("--no-cache", f.no_cache, "Do not use cache when building the image");
  sub->add_flag("--pull", f.pull, "Always attempt to pull a newer version of the image");
  add_multi(sub, "--label", f.labels, "Set metadata for an image");
  sub->add_flag("-q,--quiet", f.quiet, "Suppress the build output and print image ID on success");
  sub->add_flag("--rm", f.rm, "Remove intermediate containers after a successful build");
  sub->add_flag("--force-rm", f.force_rm, "Always remove intermediate containers");
  sub->add_option("--network", f.network,
                  "Set the networking mode for the RUN instructions during build");
  add_multi(sub, "--add-host", f.add_hosts, "Add a custom host-to-IP mapping (\"host:ip\")");
  sub->add_option("--platform", f.platform, "Set platform if server is multi-platform capable");
  sub->add_option("--iidfile", f.iidfile, "Write the image ID to the file");
  add_multi(sub, "--cache-from", f.cache_from, "Images to consider as cache sources");
  sub->add_option("-m,--memory", f.memory, "Memory limit");
  sub->add_option("--memory-swap", f.memory_swap,
                  "Swap limit equal to memory plus swap: -1 to enable unlimited swap");
  sub->add_option("--shm-size", f.shm_size, "Size of \"/dev/shm\"");
  sub->add_option("-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)");
  sub->add_option("--cpu-period", f.cpu_period,
                  "Limit the CPU CFS (Completely Fair Scheduler) period");
  sub->add_option("--cpu-quota", f.cpu_quota,
                  "Limit the CPU CFS (Completely Fair Scheduler) quota");
  sub->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
  sub->add_option("--cpuset-mems", f.cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)");
  sub->add_option("--cgroup-parent", f.cgroup_parent,
                  "Set the parent cgroup for the \"RUN\" instructions during build");
  sub->add_option("--isolation", f.isolation, "Container isolation technology");
  add_multi(sub, "--ulimit", f.ulimits, "Ulimit options");
  sub->add_flag("--compress", f.compress, "Compress the build context using gzip");
}

// docker's builder prune output.
int run_builder_prune(const Globals& g, bool all, bool force,
                      const std::vector<std::string>& filter_args, const std::string& keep) {
  api::client::Filters filters;
  for (const auto& arg : filter_args) {
    auto kv = api::client::parse_filter_arg(arg);
    if (!kv) {
      return report(kv.error());
    }
    filters[kv->first].push_back(kv->second);
  }
  int64_t keep_storage = 0;
  if (!keep.empty()) {
    auto n = parse_ram_bytes(keep);
    if (!n) {
      return report(n.error());
    }
    keep_storage = *n;
  }
  auto c = make_client(g);
  if (!c) {
    return report(c.error());
  }
  if (!force) {
    write_out(all ? "WARNING! This will remove all build cache. Are you sure you want to "
                    "continue? [y/N] "
                  : "WARNING! This will remove all dangling build cache. Are you sure you want "
                    "to continue? [y/N] ");
    char buf[64] = {};
    if (std::fgets(buf, sizeof(buf), stdin) == nullptr || (buf[0] != 'y' && buf[0] != 'Y')) {
      return 0;
    }
  }
  auto r = c->build_prune(all, keep_storage, filters);
  if (!r) {
    return report(r.error());
  }
  std::string text;
  if (auto d = r->find("CachesDeleted"); d != r->end() && d->is_array() && !d->empty()) {
    text = "Deleted build cache objects:\n";
    for (const auto& id : *d) {
      if (id.is_string()) {
        text += id.get<std::string>() + "\n";
      }
    }
    write_out(text + "\n");
  }
  int64_t space = 0;
  if (auto s = r->find("SpaceReclaimed"); s != r->end() && s->is_number_integer()) {
    space = s->get<int64_t>();
  }
  write_out("Total reclaimed space: " + human_size(static_cast<double>(space), 4) + "\n");
  return 0;
}

}  // namespace

void register_build(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("build", "Build an image from a Dockerfile");
  auto f = std::make_shared<BuildFlags>();
  add_build_flags(sub, *f);
  Globals& g = reg.globals();
  reg.add(sub, [f, &g]() -> int { return run_build(g, *f); });
}

void register_builder(CLI::App& parent, Registry& reg) {
  auto* builder = parent.add_subcommand("builder", "Manage builds");
  register_build(*builder, reg);
  auto* prune = builder->add_subcommand("prune", "Remove build cache");
  struct PruneFlags {
    bool all = false;
    bool force = false;
    std::vector<std::string> filters;
    std::string keep_storage;
  };
  auto p = std::make_shared<PruneFlags>();
  prune->add_flag("-a,--all", p->all, "Remove all unused build cache, not just dangling ones");
  prune->add_flag("-f,--force", p->force, "Do not prompt for confirmation");
  add_multi(prune, "--filter", p->filters, "Provide filter values (e.g. \"until=24h\")");
  prune->add_option("--keep-storage", p->keep_storage, "Amount of disk space to keep for cache");
  Globals& g = reg.globals();
  reg.add(prune, [p, &g]() -> int {
    return run_builder_prune(g, p->all, p->force, p->filters, p->keep_storage);
  });
}

}  // namespace mydocker::cli
