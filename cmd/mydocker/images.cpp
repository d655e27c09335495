// SPDX-License-Identifier: Apache-2.0
// images, rmi, tag, history, import, load, save, image prune.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/views.h"
#include "image/reference/reference.h"
#include "runtime/base/fd.h"

namespace mydocker::cli {

namespace {

using api::client::Json;

// An upload body read from a file (with its size) or from stdin (chunked).
struct Upload {
  base::Fd file;
  int fd = STDIN_FILENO;
  std::optional<uint64_t> length;
  api::client::BodySource source() const {
    int f = fd;
    return [f](char* buf, size_t len) -> base::Result<size_t> {
      for (;;) {
        ssize_t n = ::read(f, buf, len);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n < 0) {
          return base::sys_error("read input");
        }
        return static_cast<size_t>(n);
      }
    };
  }
};

base::Result<Upload> open_upload(const std::string& path) {
  Upload u;
  if (path.empty() || path == "-") {
    return u;
  }
  u.file = MYDOCKER_TRY(base::Fd::open(path, O_RDONLY));
  u.fd = u.file.get();
  struct stat st {};
  if (::fstat(u.fd, &st) == 0 && S_ISREG(st.st_mode)) {
    u.length = static_cast<uint64_t>(st.st_size);
  }
  return u;
}

// A sink that writes to -o FILE or stdout (refusing a terminal, as docker does).
base::Result<void> download(
    const std::string& output,
    const std::function<base::Result<void>(const api::client::BodySink&)>& fetch) {
  base::Fd file;
  int fd = STDOUT_FILENO;
  if (output.empty() && is_terminal(STDOUT_FILENO)) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "cowardly refusing to save to a terminal. Use the -o flag or "
                            "redirect");
  }
  std::string tmp;
  if (!output.empty()) {
    // Written beside the target and renamed at the end, so a failed save leaves no torn file.
    tmp = output + ".mydocker-tmp";
    file = MYDOCKER_TRY(base::Fd::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    fd = file.get();
  }
  std::optional<base::Error> write_error;
  auto r = fetch([&](std::string_view d) {
    auto w = base::write_all(fd, d);
    if (!w) {
      write_error = std::move(w).error();
      return false;
    }
    return true;
  });
  if (!r || write_error) {
    if (!tmp.empty()) {
      ::unlink(tmp.c_str());
    }
    return r ? base::Result<void>(std::move(*write_error)) : r;
  }
  if (!tmp.empty() && ::rename(tmp.c_str(), output.c_str()) != 0) {
    auto e = base::sys_error("rename `{}` to `{}`", tmp, output);
    ::unlink(tmp.c_str());
    return e;
  }
  return base::ok();
}

void print_progress(const Json& m) {
  // docker's jsonmessage drops progress-bar updates when stdout is not a terminal; we never
  // draw bars, so they are dropped always.
  if (m.contains("progressDetail") && m["progressDetail"].is_object() &&
      m["progressDetail"].contains("current")) {
    return;
  }
  if (m.contains("stream") && m["stream"].is_string()) {
    write_out(m["stream"].get<std::string>());
  } else if (m.contains("status") && m["status"].is_string()) {
    std::string line = m["status"].get<std::string>();
    if (m.contains("id") && m["id"].is_string()) {
      line = m["id"].get<std::string>() + ": " + line;
    }
    write_out(line + "\n");
  }
}

}  // namespace

void register_image_prune(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("prune", "Remove unused images");
  auto all = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  auto filters = std::make_shared<std::vector<std::string>>();
  sub->add_flag("-a,--all", *all, "Remove all unused images, not just dangling ones");
  sub->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  add_multi(sub, "--filter", *filters, "Provide filter values (e.g. \"until=<timestamp>\")");
  Globals& g = reg.globals();
  reg.add(sub, [all, force, filters, &g]() -> int {
    api::client::Filters f;
    for (const auto& arg : *filters) {
      auto kv = api::client::parse_filter_arg(arg);
      if (!kv) {
        return report(kv.error());
      }
      f[kv->first].push_back(kv->second);
    }
    f["dangling"] = {*all ? "false" : "true"};
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    if (!*force &&
        !confirm(*all ? "WARNING! This will remove all images without at least one container "
                        "associated to them."
                      : "WARNING! This will remove all dangling images.")) {
      return 0;
    }
    auto r = c->images_prune(f);
    if (!r) {
      return report(r.error());
    }
    uint64_t space = print_pruned(*r, "ImagesDeleted", "Deleted Images:");
    write_out("Total reclaimed space: " + human_size(static_cast<double>(space), 4) + "\n");
    return 0;
  });
}

void register_image_verbs(CLI::App& parent, Registry& reg, bool in_group) {
  Globals& g = reg.globals();
  {
    auto* sub = parent.add_subcommand(in_group ? "ls" : "images", "List images");
    if (in_group) {
      sub->alias("list");
    }
    struct Opts {
      std::string repo;
      bool all = false;
      bool quiet = false;
      bool no_trunc = false;
      bool digests = false;
      std::vector<std::string> filters;
      std::string format;
    };
    auto o = std::make_shared<Opts>();
    sub->add_option("REPOSITORY[:TAG]", o->repo);
    sub->add_flag("-a,--all", o->all, "Show all images (default hides intermediate images)");
    sub->add_flag("-q,--quiet", o->quiet, "Only show image IDs");
    sub->add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
    sub->add_flag("--digests", o->digests, "Show digests");
    add_multi(sub, "-f,--filter", o->filters, "Filter output based on conditions provided");
    sub->add_option("--format", o->format, "Format output using a custom template");
    reg.add(sub, [o, &g]() -> int {
      api::client::Filters f;
      for (const auto& arg : o->filters) {
        auto kv = api::client::parse_filter_arg(arg);
        if (!kv) {
          return report(kv.error());
        }
        f[kv->first].push_back(kv->second);
      }
      if (!o->repo.empty()) {
        f["reference"].push_back(o->repo);
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto list = c->image_list(o->all, f, o->digests);
      if (!list) {
        return report(list.error());
      }
      ImagesView v{
          .quiet = o->quiet, .no_trunc = o->no_trunc, .digests = o->digests, .format = o->format};
      auto out = render_images(*list, v, unix_now());
      if (!out) {
        return report(out.error());
      }
      write_out(*out);
      return 0;
    });
  }
  {
    auto* sub = parent.add_subcommand(in_group ? "rm" : "rmi", "Remove one or more images");
    if (in_group) {
      sub->alias("remove");
    }
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    auto no_prune = std::make_shared<bool>(false);
    sub->add_option("IMAGE", *names)->required();
    sub->add_flag("-f,--force", *force, "Force removal of the image");
    sub->add_flag("--no-prune", *no_prune, "Do not delete untagged parents");
    reg.add(sub, [names, force, no_prune, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      int status = 0;
      for (const auto& n : *names) {
        auto r = c->image_remove(n, *force, *no_prune);
        if (!r) {
          write_err(r.error().to_string() + "\n");
          status = 1;
          continue;
        }
        std::string out;
        for (const auto& item : *r) {
          if (item.contains("Untagged") && item["Untagged"].is_string()) {
            out += "Untagged: " + item["Untagged"].get<std::string>() + "\n";
          }
          if (item.contains("Deleted") && item["Deleted"].is_string()) {
            out += "Deleted: " + item["Deleted"].get<std::string>() + "\n";
          }
        }
        write_out(out);
      }
      return status;
    });
  }
  {
    auto* sub = parent.add_subcommand("tag",
                                      "Create a tag TARGET_IMAGE that refers to "
                                      "SOURCE_IMAGE");
    auto source = std::make_shared<std::string>();
    auto target = std::make_shared<std::string>();
    sub->add_option("SOURCE_IMAGE[:TAG]", *source)->required();
    sub->add_option("TARGET_IMAGE[:TAG]", *target)->required();
    reg.add(sub, [source, target, &g]() -> int {
      // The target is checked here, as docker's CLI does, so a bad name never reaches the
      // daemon: "invalid reference format".
      auto ref = image::reference::parse_normalized_named(*target);
      if (!ref) {
        write_err("Error parsing reference: \"" + *target +
                  "\" is not a valid repository/tag: " + ref.error().message() + "\n");
        return 1;
      }
      if (ref->has_digest()) {
        write_err("refusing to create a tag with a digest reference\n");
        return 1;
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto r = c->image_tag(*source, ref->familiar_name(),
                            ref->has_tag() ? ref->tag() : std::string("latest"));
      return r ? 0 : report(r.error());
    });
  }
  {
    auto* sub = parent.add_subcommand("history", "Show the history of an image");
    struct Opts {
      std::string name;
      bool human = true;
      bool no_trunc = false;
      bool quiet = false;
      std::string format;
    };
    auto o = std::make_shared<Opts>();
    sub->add_option("IMAGE", o->name)->required();
    sub->add_option("-H,--human", o->human, "Print sizes and dates in human readable format")
        ->default_str("true")
        ->expected(0, 1)
        ->default_val(true);
    sub->add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
    sub->add_flag("-q,--quiet", o->quiet, "Only show image IDs");
    sub->add_option("--format", o->format, "Format output using a custom template");
    reg.add(sub, [o, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto h = c->image_history(o->name);
      if (!h) {
        return report(h.error());
      }
      HistoryView v{
          .human = o->human, .no_trunc = o->no_trunc, .quiet = o->quiet, .format = o->format};
      auto out = render_history(*h, v, unix_now());
      if (!out) {
        return report(out.error());
      }
      write_out(*out);
      return 0;
    });
  }
  {
    auto* sub = parent.add_subcommand(
        "import", "Import the contents from a tarball to create a filesystem image");
    struct Opts {
      std::string file;
      std::string repo;
      std::vector<std::string> changes;
      std::string message;
    };
    auto o = std::make_shared<Opts>();
    sub->add_option("file|URL|-", o->file)->required();
    sub->add_option("REPOSITORY[:TAG]", o->repo);
    add_multi(sub, "-c,--change", o->changes, "Apply Dockerfile instruction to the created image");
    sub->add_option("-m,--message", o->message, "Set commit message for imported image");
    reg.add(sub, [o, &g]() -> int {
      std::string repo;
      std::string tag;
      if (!o->repo.empty()) {
        auto ref = image::reference::parse_normalized_named(o->repo);
        if (!ref || ref->has_digest()) {
          write_err("Error parsing reference: \"" + o->repo +
                    "\" is not a valid repository/tag: invalid reference format\n");
          return 1;
        }
        repo = ref->familiar_name();
        tag = ref->tag();
      }
      if (o->file.find("://") != std::string::npos) {
        write_err("mydocker: importing from a URL is not supported\n");
        return 1;
      }
      auto up = open_upload(o->file);
      if (!up) {
        return report(up.error());
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto r = c->image_import(up->source(), up->length, repo, tag, o->changes, o->message,
                               [](const Json& m) {
                                 if (m.contains("status") && m["status"].is_string()) {
                                   write_out(m["status"].get<std::string>() + "\n");
                                 }
                               });
      return r ? 0 : report(r.error());
    });
  }
  {
    auto* sub = parent.add_subcommand("load", "Load an image from a tar archive or STDIN");
    auto input = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    sub->add_option("-i,--input", *input, "Read from tar archive file, instead of STDIN");
    sub->add_flag("-q,--quiet", *quiet, "Suppress the load output");
    reg.add(sub, [input, quiet, &g]() -> int {
      if (input->empty() && is_terminal(STDIN_FILENO)) {
        write_err("requested load from stdin, but stdin is empty\n");
        return 1;
      }
      auto up = open_upload(*input);
      if (!up) {
        return report(up.error());
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto r = c->image_load(up->source(), up->length, *quiet, print_progress);
      return r ? 0 : report(r.error());
    });
  }
  {
    auto* sub = parent.add_subcommand(
        "save", "Save one or more images to a tar archive (streamed to STDOUT by default)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto output = std::make_shared<std::string>();
    sub->add_option("IMAGE", *names)->required();
    sub->add_option("-o,--output", *output, "Write to a file, instead of STDOUT");
    reg.add(sub, [names, output, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto r = download(
          *output, [&](const api::client::BodySink& sink) { return c->image_save(*names, sink); });
      return r ? 0 : report(r.error());
    });
  }
  if (in_group) {
    register_image_prune(parent, reg);
    register_inspect(parent, reg, "image");
  }
}

}  // namespace mydocker::cli
