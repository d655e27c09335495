// SPDX-License-Identifier: Apache-2.0
// A hand-written matcher for Docker's reference grammar. Docker uses one anchored regexp; the
// decisions below reproduce what that regexp accepts, and the order of the checks reproduces
// which error Docker reports when several things are wrong at once.
#include "image/reference/reference.h"

#include <optional>
#include <vector>

#include "runtime/base/path_match.h"
#include "runtime/base/strings.h"

namespace mydocker::image::reference {
namespace {

using base::ErrorCode;
using base::make_error;

constexpr std::string_view kErrFormat = "invalid reference format";
constexpr std::string_view kErrUppercase =
    "invalid reference format: repository name must be lowercase";

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_word(char c) {
  return is_alnum(c) || c == '_';
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// [a-z0-9]+ ( ( [._] | __ | [-]+ ) [a-z0-9]+ )*
bool valid_path_component(std::string_view s) {
  size_t i = 0;
  auto alnum_run = [&] {
    size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) {
      ++i;
    }
    return i > start;
  };
  if (!alnum_run()) {
    return false;
  }
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') {
        ++i;
      }
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') {
        ++i;
      }
    } else {
      return false;
    }
    if (!alnum_run()) {
      return false;
    }
  }
  return true;
}

// [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) {
    return false;
  }
  for (char c : s) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

// host [":" port], host = dns components joined by '.', or "[" hex-and-colons "]".
bool valid_domain(std::string_view s) {
  std::string_view host = s;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) {
      return false;
    }
    for (char c : s.substr(1, close - 1)) {
      if (!is_hex(c) && c != ':') {
        return false;
      }
    }
    host = {};
    s = s.substr(close + 1);
  } else {
    size_t colon = s.find(':');
    host = s.substr(0, colon);
    s = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
    size_t start = 0;
    while (true) {
      size_t dot = host.find('.', start);
      if (!valid_domain_component(host.substr(start, dot - start))) {
        return false;
      }
      if (dot == std::string_view::npos) {
        break;
      }
      start = dot + 1;
    }
  }
  if (s.empty()) {
    return true;
  }
  if (s.front() != ':' || s.size() == 1) {
    return false;
  }
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// The digest as the reference regexp sees it (before go-digest's stricter check):
// [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" [0-9a-fA-F]{32,}
bool digest_grammar(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string_view alg = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  bool need_alpha = true;
  for (char c : alg) {
    if (need_alpha) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        return false;
      }
      need_alpha = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      need_alpha = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  if (need_alpha || hex.size() < 32) {
    return false;
  }
  for (char c : hex) {
    if (!is_hex(c)) {
      return false;
    }
  }
  return true;
}

struct Match {
  std::string_view name;
  std::string_view tag;
  std::string_view digest;
  std::string_view domain;  // as the name regexp captures it ("" when none)
  std::string_view path;
};

bool valid_name(std::string_view name, Match& m) {
  if (name.empty()) {
    return false;
  }
  std::vector<std::string_view> comps;
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    comps.push_back(name.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  auto path_ok = [&](size_t from) {
    for (size_t i = from; i < comps.size(); ++i) {
      if (!valid_path_component(comps[i])) {
        return false;
      }
    }
    return true;
  };
  // Go's regexp tries the optional domain first; fall back to "all path components".
  if (comps.size() >= 2 && valid_domain(comps[0]) && path_ok(1)) {
    m.domain = comps[0];
    m.path = name.substr(comps[0].size() + 1);
    return true;
  }
  if (path_ok(0)) {
    m.domain = {};
    m.path = name;
    return true;
  }
  return false;
}

std::optional<Match> match_reference(std::string_view s) {
  Match m;
  std::string_view rest = s;
  size_t at = s.find('@');
  if (at != std::string_view::npos) {
    m.digest = s.substr(at + 1);
    rest = s.substr(0, at);
    if (!digest_grammar(m.digest)) {
      return std::nullopt;
    }
  }
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash + 1);
  if (colon != std::string_view::npos) {
    m.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!valid_tag(m.tag)) {
      return std::nullopt;
    }
  }
  if (!valid_name(rest, m)) {
    return std::nullopt;
  }
  m.name = rest;
  return m;
}

// Docker's splitDockerDomain.
std::pair<std::string, std::string> split_docker_domain(std::string_view text) {
  std::string domain;
  std::string remainder;
  size_t slash = text.find('/');
  std::string_view first = slash == std::string_view::npos ? text : text.substr(0, slash);
  if (slash == std::string_view::npos ||
      (first.find_first_of(".:") == std::string_view::npos && first != "localhost" &&
       base::ascii_lower(first) == first)) {
    domain = kDefaultDomain;
    remainder = text;
  } else {
    domain = first;
    remainder = text.substr(slash + 1);
  }
  if (domain == kLegacyDefaultDomain) {
    domain = kDefaultDomain;
  }
  if (domain == kDefaultDomain && remainder.find('/') == std::string::npos) {
    remainder = std::string(kOfficialRepoPrefix) + remainder;
  }
  return {domain, remainder};
}

}  // namespace

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !is_word(tag[0])) {
    return false;
  }
  for (char c : tag.substr(1)) {
    if (!is_word(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

base::Result<void> validate_digest(std::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == digest.size()) {
    return make_error(ErrorCode::InvalidArgument, "invalid checksum digest format");
  }
  std::string_view alg = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  size_t want = 0;
  if (alg == "sha256") {
    want = 64;
  } else if (alg == "sha384") {
    want = 96;
  } else if (alg == "sha512") {
    want = 128;
  } else {
    if (!digest_grammar(digest)) {
      return make_error(ErrorCode::InvalidArgument, "invalid checksum digest format");
    }
    return make_error(ErrorCode::InvalidArgument, "unsupported digest algorithm");
  }
  if (hex.size() != want) {
    return make_error(ErrorCode::InvalidArgument, "invalid checksum digest length");
  }
  for (char c : hex) {
    if (!is_lower_hex(c)) {
      return make_error(ErrorCode::InvalidArgument, "invalid checksum digest format");
    }
  }
  return base::ok();
}

bool is_full_hex_id(std::string_view text) {
  if (text.size() != 64) {
    return false;
  }
  for (char c : text) {
    if (!is_lower_hex(c)) {
      return false;
    }
  }
  return true;
}

base::Result<Reference> Reference::parse(std::string_view text) {
  if (is_full_hex_id(text)) {
    return make_error(ErrorCode::InvalidArgument,
                      "invalid repository name ({}), cannot specify 64-byte hexadecimal strings",
                      text);
  }
  auto [domain, remainder] = split_docker_domain(text);
  std::string_view remote_name = remainder;
  remote_name = remote_name.substr(0, remote_name.find(':'));
  if (base::ascii_lower(remote_name) != remote_name) {
    return make_error(ErrorCode::InvalidArgument, "{}", kErrUppercase);
  }
  std::string full = domain + "/" + remainder;
  std::optional<Match> m = match_reference(full);
  if (!m) {
    if (match_reference(base::ascii_lower(full))) {
      return make_error(ErrorCode::InvalidArgument, "{}", kErrUppercase);
    }
    return make_error(ErrorCode::InvalidArgument, "{}", kErrFormat);
  }
  if (m->name.size() > kNameTotalLengthMax) {
    return make_error(ErrorCode::InvalidArgument,
                      "repository name must not be more than {} characters", kNameTotalLengthMax);
  }
  if (!m->digest.empty()) {
    MYDOCKER_TRY(validate_digest(m->digest));
  }
  Reference ref;
  ref.domain_ = m->domain;
  ref.path_ = m->path;
  ref.tag_ = m->tag;
  ref.digest_ = m->digest;
  return ref;
}

base::Result<Reference> Reference::from_parts(std::string_view name, std::string_view tag,
                                              std::string_view digest) {
  if (name.find_first_of("@") != std::string_view::npos) {
    return make_error(ErrorCode::InvalidArgument, "{}", kErrFormat);
  }
  Reference ref = MYDOCKER_TRY(parse(name));
  if (ref.has_tag() || ref.has_digest()) {
    return make_error(ErrorCode::InvalidArgument, "{}", kErrFormat);
  }
  if (!tag.empty()) {
    ref = MYDOCKER_TRY(ref.with_tag(tag));
  }
  if (!digest.empty()) {
    MYDOCKER_TRY(validate_digest(digest));
    ref.digest_ = digest;
  }
  return ref;
}

std::string Reference::name() const {
  return domain_.empty() ? path_ : domain_ + "/" + path_;
}

std::string Reference::str() const {
  std::string out = name();
  if (!tag_.empty()) {
    out += ":" + tag_;
  }
  if (!digest_.empty()) {
    out += "@" + digest_;
  }
  return out;
}

std::string Reference::familiar_name() const {
  if (domain_ != kDefaultDomain) {
    return name();
  }
  std::string_view p = path_;
  if (p.starts_with(kOfficialRepoPrefix) &&
      p.substr(kOfficialRepoPrefix.size()).find('/') == std::string_view::npos) {
    return std::string(p.substr(kOfficialRepoPrefix.size()));
  }
  return path_;
}

std::string Reference::familiar() const {
  std::string out = familiar_name();
  if (!tag_.empty()) {
    out += ":" + tag_;
  }
  if (!digest_.empty()) {
    out += "@" + digest_;
  }
  return out;
}

Reference Reference::with_default_tag() const {
  Reference r = *this;
  if (r.tag_.empty() && r.digest_.empty()) {
    r.tag_ = kDefaultTag;
  }
  return r;
}

base::Result<Reference> Reference::with_tag(std::string_view tag) const {
  if (!valid_tag(tag)) {
    return make_error(ErrorCode::InvalidArgument, "invalid tag format");
  }
  Reference r = name_only();
  r.tag_ = tag;
  return r;
}

base::Result<Reference> Reference::with_digest(std::string_view digest) const {
  MYDOCKER_TRY(validate_digest(digest));
  Reference r = name_only();
  r.digest_ = digest;
  return r;
}

Reference Reference::name_only() const {
  Reference r;
  r.domain_ = domain_;
  r.path_ = path_;
  return r;
}

base::Result<bool> familiar_match(std::string_view pattern, const Reference& ref) {
  bool matched = MYDOCKER_TRY(base::path_match(pattern, ref.familiar()));
  if (!matched) {
    matched = MYDOCKER_TRY(base::path_match(pattern, ref.familiar_name()));
  }
  return matched;
}

}  // namespace mydocker::image::reference
