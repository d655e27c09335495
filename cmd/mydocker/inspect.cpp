// SPDX-License-Identifier: Apache-2.0
// inspect (and container inspect / image inspect): a JSON array indented with 4 spaces, as
// docker prints it, or one template result per object with -f.
#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/template.h"

namespace mydocker::cli {

namespace {

// The raw object for `name`: a container first, then an image (docker's order without
// --type). NotFound when neither exists.
base::Result<OJson> fetch(const api::client::Client& c, const std::string& name,
                          const std::string& type, bool size) {
  auto parse = [](const api::client::HttpResponse& r) -> base::Result<OJson> {
    OJson j = OJson::parse(r.body, nullptr, false);
    if (j.is_discarded()) {
      return base::make_error(base::ErrorCode::Internal, "daemon sent invalid JSON");
    }
    return j;
  };
  if (type.empty() || type == "container") {
    api::client::Query q;
    if (size) {
      q.emplace_back("size", "1");
    }
    auto r = c.request("GET", "/containers/" + api::client::path_escape(name) + "/json", q);
    if (r) {
      return parse(*r);
    }
    // With a type, the daemon's own error is printed ("Error response from daemon: No such
    // container: x"); without, docker tries an image next and says "No such object".
    if (r.error().code() != base::ErrorCode::NotFound || type == "container") {
      return std::move(r).error();
    }
  }
  auto r = c.request("GET", "/images/" + api::client::path_escape(name) + "/json");
  if (r) {
    return parse(*r);
  }
  if (r.error().code() == base::ErrorCode::NotFound && type.empty()) {
    return base::make_error(base::ErrorCode::NotFound, "Error: No such object: {}", name);
  }
  return std::move(r).error();
}

}  // namespace

void register_inspect(CLI::App& parent, Registry& reg, const std::string& type) {
  auto* sub = parent.add_subcommand("inspect", "Return low-level information on objects");
  struct Opts {
    std::vector<std::string> names;
    std::string format;
    std::string type;
    bool size = false;
  };
  auto o = std::make_shared<Opts>();
  o->type = type;
  sub->add_option("NAME", o->names)->required();
  sub->add_option("-f,--format", o->format, "Format output using a custom template");
  if (type.empty()) {
    sub->add_option("--type", o->type, "Only inspect objects of the given type");
  }
  if (type != "image") {
    sub->add_flag("-s,--size", o->size, "Display total file sizes if the type is container");
  }
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    if (!o->type.empty() && o->type != "container" && o->type != "image") {
      write_err(fmt::format("\"{}\" is not a valid value for --type\n", o->type));
      return 1;
    }
    std::optional<Template> tmpl;
    if (!o->format.empty()) {
      Format f = parse_format(o->format);
      auto t = Template::parse(f.tmpl);
      if (!t) {
        return report(t.error());
      }
      tmpl.emplace(std::move(*t));
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    int status = 0;
    OJson all = OJson::array();
    std::string out;
    std::string errors;  // printed after the output, as docker does
    for (const auto& n : o->names) {
      auto obj = fetch(*c, n, o->type, o->size);
      if (!obj) {
        if (obj.error().code() != base::ErrorCode::NotFound) {
          return report(obj.error());
        }
        errors += obj.error().message() + "\n";
        status = 1;
        continue;
      }
      if (tmpl) {
        auto s = tmpl->execute(*obj);
        if (!s) {
          return report(s.error());
        }
        out += *s + "\n";
      } else {
        all.push_back(std::move(*obj));
      }
    }
    if (tmpl) {
      write_out(out);
    } else {
      write_out(all.empty() ? "[]\n" : all.dump(4) + "\n");
    }
    write_err(errors);
    return status;
  });
}

}  // namespace mydocker::cli
