// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/views.h"

#include <algorithm>
#include <map>
#include <vector>

#include "cmd/mydocker/format.h"
#include "runtime/base/strings.h"

namespace mydocker::cli {

namespace {

std::string str_field(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t int_field(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

// Go's time.Unix(t, 0).Format(time.RFC3339) in local time: "Z" for UTC, else "+01:00".
std::string rfc3339_local(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s(buf, n);
  if (s.size() < 5) {
    return s;
  }
  std::string off = s.substr(s.size() - 5);
  return s.substr(0, s.size() - 5) +
         (off == "+0000" ? "Z" : off.substr(0, 3) + ":" + off.substr(3));
}

std::string ago(int64_t created, int64_t now) {
  return human_duration(now - created) + " ago";
}

std::string format_ports(const Json& ports) {
  if (!ports.is_array()) {
    return "";
  }
  std::vector<std::string> out;
  for (const auto& p : ports) {
    std::string type = str_field(p, "Type");
    int64_t priv = int_field(p, "PrivatePort");
    if (p.contains("PublicPort") && int_field(p, "PublicPort") != 0) {
      std::string ip = str_field(p, "IP");
      out.push_back(fmt::format("{}:{}->{}/{}", ip, int_field(p, "PublicPort"), priv, type));
    } else {
      out.push_back(fmt::format("{}/{}", priv, type));
    }
  }
  return base::join(out, ", ");
}

OJson container_headers() {
  OJson h;
  h["Command"] = "COMMAND";
  h["CreatedAt"] = "CREATED AT";
  h["ID"] = "CONTAINER ID";
  h["Image"] = "IMAGE";
  h["Label"] = "LABEL";
  h["Labels"] = "LABELS";
  h["LocalVolumes"] = "LOCAL VOLUMES";
  h["Mounts"] = "MOUNTS";
  h["Names"] = "NAMES";
  h["Networks"] = "NETWORKS";
  h["Ports"] = "PORTS";
  h["RunningFor"] = "CREATED";
  h["Size"] = "SIZE";
  h["State"] = "STATE";
  h["Status"] = "STATUS";
  return h;
}

// docker titles a {{.Label "com.example.some-key"}} column with the key's last dotted part,
// '-' and '_' turned into spaces ("some key"). The titles are found in the template text.
OJson header_context(OJson h, const std::string& tmpl) {
  OJson labels = OJson::object();
  size_t pos = 0;
  while ((pos = tmpl.find(".Label \"", pos)) != std::string::npos) {
    size_t start = pos + 8;
    size_t end = tmpl.find('"', start);
    if (end == std::string::npos) {
      break;
    }
    std::string key = tmpl.substr(start, end - start);
    std::string title = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
    std::replace(title.begin(), title.end(), '-', ' ');
    std::replace(title.begin(), title.end(), '_', ' ');
    labels[key] = title;
    pos = end;
  }
  h["Label"] = labels;
  return h;
}

}  // namespace

OJson container_context(const Json& c, bool trunc, int64_t now) {
  OJson row;
  std::string command = str_field(c, "Command");
  if (trunc) {
    command = ellipsis(command, 20);
  }
  row["Command"] = Json(command).dump();
  int64_t created = int_field(c, "Created");
  row["CreatedAt"] = go_time_string(created);
  std::string id = str_field(c, "Id");
  row["ID"] = trunc ? short_id(id) : id;
  std::string image = str_field(c, "Image");
  if (trunc && image.starts_with("sha256:")) {
    image = short_id(image);
  }
  row["Image"] = image;
  std::vector<std::pair<std::string, std::string>> labels;
  OJson label_map = OJson::object();
  if (c.contains("Labels") && c["Labels"].is_object()) {
    for (const auto& [k, v] : c["Labels"].items()) {
      std::string vs = v.is_string() ? v.get<std::string>() : v.dump();
      labels.emplace_back(k, vs);
      label_map[k] = vs;
    }
  }
  std::sort(labels.begin(), labels.end());
  std::vector<std::string> label_strs;
  for (const auto& [k, v] : labels) {
    label_strs.push_back(k + "=" + v);
  }
  row["Labels"] = base::join(label_strs, ",");
  std::vector<std::string> mounts;
  int64_t local_volumes = 0;
  if (c.contains("Mounts") && c["Mounts"].is_array()) {
    for (const auto& m : c["Mounts"]) {
      std::string name = str_field(m, "Name");
      if (name.empty()) {
        name = str_field(m, "Source");
      }
      if (trunc && name.size() > 15) {
        name = ellipsis(name, 15);
      }
      mounts.push_back(name);
      if (str_field(m, "Driver") == "local") {
        ++local_volumes;
      }
    }
  }
  row["LocalVolumes"] = std::to_string(local_volumes);
  row["Mounts"] = base::join(mounts, ",");
  std::vector<std::string> names;
  if (c.contains("Names") && c["Names"].is_array()) {
    for (const auto& n : c["Names"]) {
      std::string name = n.is_string() ? n.get<std::string>() : "";
      if (!name.empty() && name.front() == '/') {
        name.erase(0, 1);
      }
      // Link names ("/web/db") are hidden unless --no-trunc, as docker does.
      if (trunc && name.find('/') != std::string::npos) {
        continue;
      }
      names.push_back(name);
    }
  }
  row["Names"] = base::join(names, ",");
  std::vector<std::string> networks;
  if (c.contains("NetworkSettings") && c["NetworkSettings"].is_object() &&
      c["NetworkSettings"].contains("Networks") && c["NetworkSettings"]["Networks"].is_object()) {
    for (const auto& [k, _] : c["NetworkSettings"]["Networks"].items()) {
      networks.push_back(k);
    }
  }
  std::sort(networks.begin(), networks.end());
  row["Networks"] = base::join(networks, ",");
  row["Platform"] = nullptr;  // docker 28's ContainerContext has it; unset without a platform
  row["Ports"] = format_ports(c.contains("Ports") ? c["Ports"] : Json());
  row["RunningFor"] = ago(created, now);
  int64_t srw = int_field(c, "SizeRw");
  int64_t srootfs = int_field(c, "SizeRootFs");
  std::string size = human_size(static_cast<double>(srw));
  if (srootfs > 0) {
    size = fmt::format("{} (virtual {})", size, human_size(static_cast<double>(srootfs)));
  }
  row["Size"] = size;
  row["State"] = str_field(c, "State");
  row["Status"] = str_field(c, "Status");
  // Not part of {{json .}} in docker, but reachable as {{.Label "k"}}: kept last.
  row["Label"] = label_map;
  return row;
}

base::Result<std::string> render_ps(const Json& list, const PsView& view, int64_t now) {
  std::string format = view.format;
  if (view.quiet) {
    std::string out;
    for (const auto& c : list) {
      std::string id = str_field(c, "Id");
      out += (view.no_trunc ? id : short_id(id)) + "\n";
    }
    return out;
  }
  if (format.empty() || format == "table") {
    format =
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"
        "\t{{.Names}}";
    if (view.size) {
      format += "\t{{.Size}}";
    }
  }
  Format f = parse_format(format);
  std::vector<OJson> rows;
  for (const auto& c : list) {
    OJson row = container_context(c, !view.no_trunc, now);
    if (f.tmpl.find("json .}}") != std::string::npos) {
      row.erase("Label");
    }
    rows.push_back(std::move(row));
  }
  return render_rows(f, header_context(container_headers(), f.tmpl), rows);
}

namespace {

// "repo:tag" -> {"repo","tag"}; the tag separator is the last ':' after the last '/'.
std::pair<std::string, std::string> split_repo(const std::string& ref, char sep) {
  size_t slash = ref.rfind('/');
  size_t pos = ref.rfind(sep);
  if (pos == std::string::npos || (slash != std::string::npos && pos < slash)) {
    return {ref, ""};
  }
  return {ref.substr(0, pos), ref.substr(pos + 1)};
}

OJson image_headers() {
  OJson h;
  h["Containers"] = "CONTAINERS";
  h["CreatedAt"] = "CREATED AT";
  h["CreatedSince"] = "CREATED";
  h["Digest"] = "DIGEST";
  h["ID"] = "IMAGE ID";
  h["Repository"] = "REPOSITORY";
  h["SharedSize"] = "SHARED SIZE";
  h["Size"] = "SIZE";
  h["Tag"] = "TAG";
  h["UniqueSize"] = "UNIQUE SIZE";
  h["VirtualSize"] = "VIRTUAL SIZE";
  return h;
}

OJson image_row(const Json& img, const std::string& repo, const std::string& tag,
                const std::string& digest, bool trunc, int64_t now) {
  OJson row;
  int64_t containers = int_field(img, "Containers");
  row["Containers"] = containers < 0 ? "N/A" : std::to_string(containers);
  int64_t created = int_field(img, "Created");
  row["CreatedAt"] = go_time_string(created);
  row["CreatedSince"] = ago(created, now);
  row["Digest"] = digest;
  std::string id = str_field(img, "Id");
  row["ID"] = trunc ? short_id(id) : id;
  row["Repository"] = repo;
  int64_t shared = int_field(img, "SharedSize");
  int64_t size = int_field(img, "Size");
  row["SharedSize"] = shared < 0 ? "N/A" : human_size(static_cast<double>(shared));
  row["Size"] = human_size(static_cast<double>(size));
  row["Tag"] = tag;
  row["UniqueSize"] = shared < 0 ? "N/A" : human_size(static_cast<double>(size - shared));
  row["VirtualSize"] = human_size(
      static_cast<double>(img.contains("VirtualSize") ? int_field(img, "VirtualSize") : size), 4);
  return row;
}

}  // namespace

base::Result<std::string> render_images(const Json& list, const ImagesView& view, int64_t now) {
  bool trunc = !view.no_trunc;
  std::vector<OJson> rows;
  for (const auto& img : list) {
    // Repository -> tags and digests, in the order the daemon gave them.
    std::vector<std::string> repos;
    std::map<std::string, std::vector<std::string>> tags;
    std::map<std::string, std::vector<std::string>> digests;
    if (img.contains("RepoTags") && img["RepoTags"].is_array()) {
      for (const auto& t : img["RepoTags"]) {
        std::string s = t.is_string() ? t.get<std::string>() : "";
        if (s.empty() || s == "<none>:<none>") {
          continue;
        }
        auto [repo, tag] = split_repo(s, ':');
        if (!tags.contains(repo)) {
          repos.push_back(repo);
        }
        tags[repo].push_back(tag);
      }
    }
    std::vector<std::string> digest_only;
    if (img.contains("RepoDigests") && img["RepoDigests"].is_array()) {
      for (const auto& d : img["RepoDigests"]) {
        std::string s = d.is_string() ? d.get<std::string>() : "";
        if (s.empty() || s == "<none>@<none>") {
          continue;
        }
        auto [repo, dg] = split_repo(s, '@');
        if (!tags.contains(repo) && !digests.contains(repo)) {
          digest_only.push_back(repo);
        }
        digests[repo].push_back(dg);
      }
    }
    for (const auto& repo : repos) {
      for (const auto& tag : tags[repo]) {
        const auto& ds = digests[repo];
        if (!view.digests || ds.empty()) {
          rows.push_back(image_row(img, repo, tag, ds.empty() ? "<none>" : ds.front(), trunc, now));
        } else {
          for (const auto& d : ds) {
            rows.push_back(image_row(img, repo, tag, d, trunc, now));
          }
        }
      }
    }
    for (const auto& repo : digest_only) {
      if (view.digests) {
        for (const auto& d : digests[repo]) {
          rows.push_back(image_row(img, repo, "<none>", d, trunc, now));
        }
      } else {
        rows.push_back(image_row(img, repo, "<none>", digests[repo].front(), trunc, now));
      }
    }
    if (repos.empty() && digest_only.empty()) {
      rows.push_back(image_row(img, "<none>", "<none>", "<none>", trunc, now));
    }
  }
  if (view.quiet) {
    std::string out;
    for (const auto& r : rows) {
      out += r["ID"].get<std::string>() + "\n";
    }
    return out;
  }
  std::string format = view.format;
  if (format.empty() || format == "table") {
    format = view.digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
                            "{{.CreatedSince}}\t{{.Size}}"
                          : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t"
                            "{{.Size}}";
  }
  return render_rows(parse_format(format), image_headers(), rows);
}

base::Result<std::string> render_history(const Json& list, const HistoryView& view, int64_t now) {
  std::vector<OJson> rows;
  for (const auto& h : list) {
    // Keys in docker's (alphabetical) order: {{json .}} prints them so.
    OJson row;
    int64_t created = int_field(h, "Created");
    std::string id = str_field(h, "Id");
    std::string by = str_field(h, "CreatedBy");
    std::replace(by.begin(), by.end(), '\t', ' ');
    int64_t size = int_field(h, "Size");
    row["Comment"] = str_field(h, "Comment");
    row["CreatedAt"] = rfc3339_local(created);
    row["CreatedBy"] = view.no_trunc ? by : ellipsis(by, 45);
    row["CreatedSince"] = view.human ? ago(created, now) : rfc3339_local(created);
    row["ID"] = (id == "<missing>" || view.no_trunc) ? id : short_id(id);
    row["Size"] = view.human ? human_size(static_cast<double>(size)) : std::to_string(size);
    rows.push_back(std::move(row));
  }
  if (view.quiet) {
    std::string out;
    for (const auto& r : rows) {
      out += r["ID"].get<std::string>() + "\n";
    }
    return out;
  }
  std::string format = view.format;
  if (format.empty() || format == "table") {
    format = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
  }
  OJson headers;
  headers["ID"] = "IMAGE";
  headers["CreatedSince"] = view.human ? "CREATED" : "CREATED AT";
  headers["CreatedAt"] = "CREATED AT";
  headers["CreatedBy"] = "CREATED BY";
  headers["Size"] = "SIZE";
  headers["Comment"] = "COMMENT";
  return render_rows(parse_format(format), headers, rows);
}

base::Result<std::string> render_df(const Json& df, const std::string& format) {
  auto pct = [](int64_t reclaimable, int64_t total) {
    if (total > 0) {
      return fmt::format("{} ({}%)", human_size(static_cast<double>(reclaimable), 4),
                         reclaimable * 100 / total);
    }
    return human_size(static_cast<double>(reclaimable), 4);
  };
  std::vector<OJson> rows;
  {
    const Json& images =
        df.contains("Images") && df["Images"].is_array() ? df["Images"] : Json::array();
    int64_t total = int_field(df, "LayersSize");
    int64_t active = 0;
    int64_t used = 0;
    for (const auto& i : images) {
      if (int_field(i, "Containers") != 0) {
        ++active;
        int64_t vs = i.contains("VirtualSize") ? int_field(i, "VirtualSize") : int_field(i, "Size");
        int64_t shared = int_field(i, "SharedSize");
        if (vs != -1 && shared != -1) {
          used += vs - shared;
        }
      }
    }
    OJson r;
    r["Active"] = std::to_string(active);
    r["Reclaimable"] = pct(total - used, total);
    r["Size"] = human_size(static_cast<double>(total), 4);
    r["TotalCount"] = std::to_string(images.size());
    r["Type"] = "Images";
    rows.push_back(r);
  }
  {
    const Json& cs =
        df.contains("Containers") && df["Containers"].is_array() ? df["Containers"] : Json::array();
    int64_t total = 0;
    int64_t reclaimable = 0;
    int64_t active = 0;
    for (const auto& c : cs) {
      std::string state = str_field(c, "State");
      bool is_active = state.find("running") != std::string::npos ||
                       state.find("paused") != std::string::npos ||
                       state.find("restarting") != std::string::npos;
      total += int_field(c, "SizeRw");
      if (is_active) {
        ++active;
      } else {
        reclaimable += int_field(c, "SizeRw");
      }
    }
    OJson r;
    r["Active"] = std::to_string(active);
    r["Reclaimable"] = pct(reclaimable, total);
    r["Size"] = human_size(static_cast<double>(total), 4);
    r["TotalCount"] = std::to_string(cs.size());
    r["Type"] = "Containers";
    rows.push_back(r);
  }
  {
    const Json& vs =
        df.contains("Volumes") && df["Volumes"].is_array() ? df["Volumes"] : Json::array();
    int64_t total = 0;
    int64_t reclaimable = 0;
    int64_t active = 0;
    for (const auto& v : vs) {
      const Json& usage = v.contains("UsageData") ? v["UsageData"] : Json::object();
      int64_t size = int_field(usage, "Size");
      int64_t refs = int_field(usage, "RefCount");
      if (size > 0) {
        total += size;
        if (refs == 0) {
          reclaimable += size;
        }
      }
      if (refs > 0) {
        ++active;
      }
    }
    OJson r;
    r["Active"] = std::to_string(active);
    r["Reclaimable"] = pct(reclaimable, total);
    r["Size"] = human_size(static_cast<double>(total), 4);
    r["TotalCount"] = std::to_string(vs.size());
    r["Type"] = "Local Volumes";
    rows.push_back(r);
  }
  {
    const Json& bc =
        df.contains("BuildCache") && df["BuildCache"].is_array() ? df["BuildCache"] : Json::array();
    int64_t total = 0;
    for (const auto& b : bc) {
      total += int_field(b, "Size");
    }
    OJson r;
    r["Active"] = "0";
    r["Reclaimable"] = human_size(static_cast<double>(total), 4);
    r["Size"] = human_size(static_cast<double>(total), 4);
    r["TotalCount"] = std::to_string(bc.size());
    r["Type"] = "Build Cache";
    rows.push_back(r);
  }
  std::string f = format.empty() ? "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t"
                                   "{{.Reclaimable}}"
                                 : format;
  OJson headers;
  headers["Type"] = "TYPE";
  headers["TotalCount"] = "TOTAL";
  headers["Active"] = "ACTIVE";
  headers["Size"] = "SIZE";
  headers["Reclaimable"] = "RECLAIMABLE";
  return render_rows(parse_format(f), headers, rows);
}

std::string render_top(const Json& top) {
  std::string text;
  std::vector<std::string> titles;
  if (top.contains("Titles") && top["Titles"].is_array()) {
    for (const auto& t : top["Titles"]) {
      titles.push_back(t.is_string() ? t.get<std::string>() : t.dump());
    }
  }
  text += base::join(titles, "\t") + "\n";
  if (top.contains("Processes") && top["Processes"].is_array()) {
    for (const auto& p : top["Processes"]) {
      std::vector<std::string> cells;
      for (const auto& c : p) {
        cells.push_back(c.is_string() ? c.get<std::string>() : c.dump());
      }
      text += base::join(cells, "\t") + "\n";
    }
  }
  return tabwrite(text, 20, 3);
}

std::string render_changes(const Json& changes) {
  std::string out;
  if (!changes.is_array()) {
    return out;
  }
  for (const auto& c : changes) {
    int64_t kind = int_field(c, "Kind");
    const char* k = kind == 1 ? "A" : kind == 2 ? "D" : "C";
    out += fmt::format("{} {}\n", k, str_field(c, "Path"));
  }
  return out;
}

}  // namespace mydocker::cli
