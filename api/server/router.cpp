// SPDX-License-Identifier: Apache-2.0
#include "api/server/router.h"

#include <algorithm>

#include "runtime/base/strings.h"

namespace mydocker::api::server {
namespace {

std::vector<std::string_view> segments(std::string_view p) {
  std::vector<std::string_view> out;
  if (p.empty() || p[0] != '/') {
    return out;
  }
  size_t pos = 1;
  while (true) {
    size_t next = p.find('/', pos);
    out.push_back(p.substr(pos, next == std::string_view::npos ? p.npos : next - pos));
    if (next == std::string_view::npos) {
      break;
    }
    pos = next + 1;
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

std::string param_name(std::string_view seg) {
  seg = seg.substr(1, seg.size() - 2);
  return std::string(seg.substr(0, seg.find(':')));
}

bool is_greedy(std::string_view seg) {
  return is_param(seg) && seg.find(":.*") != std::string_view::npos;
}

bool match_segment(std::string_view pat, std::string_view seg,
                   std::map<std::string, std::string>& params) {
  if (is_param(pat)) {
    if (seg.empty()) {
      return false;
    }
    params[param_name(pat)] = std::string(seg);
    return true;
  }
  return pat == seg;
}

}  // namespace

bool match_route(std::string_view pattern, std::string_view path,
                 std::map<std::string, std::string>& params) {
  auto pat = segments(pattern);
  auto segs = segments(path);
  if (segs.empty()) {
    return false;
  }
  auto greedy = std::find_if(pat.begin(), pat.end(), is_greedy);
  if (greedy == pat.end()) {
    if (pat.size() != segs.size()) {
      return false;
    }
    for (size_t i = 0; i < pat.size(); ++i) {
      if (!match_segment(pat[i], segs[i], params)) {
        return false;
      }
    }
    return true;
  }
  size_t before = static_cast<size_t>(greedy - pat.begin());
  size_t after = pat.size() - before - 1;
  if (segs.size() < before + after + 1) {
    return false;
  }
  for (size_t i = 0; i < before; ++i) {
    if (!match_segment(pat[i], segs[i], params)) {
      return false;
    }
  }
  for (size_t i = 0; i < after; ++i) {
    if (!match_segment(pat[before + 1 + i], segs[segs.size() - after + i], params)) {
      return false;
    }
  }
  std::vector<std::string> middle;
  for (size_t i = before; i < segs.size() - after; ++i) {
    middle.emplace_back(segs[i]);
  }
  std::string value = base::join(middle, "/");
  if (value.empty()) {
    return false;
  }
  params[param_name(*greedy)] = std::move(value);
  return true;
}

}  // namespace mydocker::api::server
