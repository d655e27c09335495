// SPDX-License-Identifier: Apache-2.0
// Docker image references: grammar, normalisation and familiar display, as Docker's
// distribution/reference (ParseNormalizedNamed, TagNameOnly, FamiliarString, FamiliarMatch).
//
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ domain "/" ] path-component [ "/" path-component ]*
//   domain    := host [ ":" port ]          host: dns-ish components, or "[" ipv6 "]"
//   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest    := algorithm ":" hex           (sha256: 64, sha384: 96, sha512: 128 lower hex)
//
// Normalisation (`ubuntu` -> `docker.io/library/ubuntu`): the first path component is a
// domain only if it contains '.' or ':', is `localhost`, or has upper-case letters; otherwise
// the domain is `docker.io`. `index.docker.io` becomes `docker.io`. A single-component name on
// docker.io gets `library/`. The whole normalised name is at most 255 characters.
//
// This target depends on mydocker::base only (the CLI links it to validate references without
// pulling in the image store), so digests are validated here by hand rather than through
// image/digest.
//
// Error texts copy Docker's exactly, since clients show them verbatim:
//   "invalid reference format"
//   "invalid reference format: repository name must be lowercase"
//   "repository name must not be more than 255 characters"
//   "invalid repository name (<64 hex>), cannot specify 64-byte hexadecimal strings"
//   "invalid tag format", "invalid checksum digest format", "invalid checksum digest length",
//   "unsupported digest algorithm"
// All are ErrorCode::InvalidArgument.
//
// Reference is a plain value type: copyable, immutable after parse, safe to share across
// threads.
#pragma once

#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::image::reference {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
inline constexpr std::string_view kOfficialRepoPrefix = "library/";
inline constexpr std::string_view kDefaultTag = "latest";
inline constexpr size_t kNameTotalLengthMax = 255;

class Reference {
 public:
  Reference() = default;

  // Parses and normalises `text` (Docker's ParseNormalizedNamed): a name is required; tag and
  // digest are optional and no default tag is added (see with_default_tag()).
  static base::Result<Reference> parse(std::string_view text);

  // Builds a reference from parts. `name` is normalised like parse(); `tag` and `digest` may
  // be empty and are validated when not.
  static base::Result<Reference> from_parts(std::string_view name, std::string_view tag,
                                            std::string_view digest);

  const std::string& domain() const { return domain_; }  // "docker.io"
  const std::string& path() const { return path_; }      // "library/ubuntu"
  const std::string& tag() const { return tag_; }        // "" when none
  const std::string& digest() const { return digest_; }  // "" when none, else "sha256:..."
  bool has_tag() const { return !tag_.empty(); }
  bool has_digest() const { return !digest_.empty(); }
  bool empty() const { return path_.empty(); }

  // "docker.io/library/ubuntu" (Docker's Name()).
  std::string name() const;
  // Full normalised text: "docker.io/library/ubuntu:14.04@sha256:..." (Docker's String()).
  std::string str() const;
  // "ubuntu" / "localhost:5000/foo/bar" (Docker's FamiliarName()).
  std::string familiar_name() const;
  // "ubuntu:14.04", "ubuntu@sha256:..." (Docker's FamiliarString()).
  std::string familiar() const;

  // Docker's TagNameOnly: adds tag `latest` when there is neither a tag nor a digest.
  Reference with_default_tag() const;
  // The same name with only this tag (digest dropped). `tag` must be valid (see valid_tag).
  base::Result<Reference> with_tag(std::string_view tag) const;
  // The same name with only this digest (tag dropped).
  base::Result<Reference> with_digest(std::string_view digest) const;
  // The bare name (tag and digest dropped).
  Reference name_only() const;

  bool operator==(const Reference&) const = default;

 private:
  std::string domain_;
  std::string path_;
  std::string tag_;
  std::string digest_;
};

// Same as Reference::parse, under Docker's name.
inline base::Result<Reference> parse_normalized_named(std::string_view text) {
  return Reference::parse(text);
}

// Validators for pieces that arrive separately (e.g. `docker tag` / the API's `tag=` param).
bool valid_tag(std::string_view tag);
// "sha256:<64 lower hex>" etc. Returns the Docker error on failure.
base::Result<void> validate_digest(std::string_view digest);
// True for exactly 64 lower-case hex characters: what Docker treats as a full image ID
// rather than a repository name.
bool is_full_hex_id(std::string_view text);

// Docker's FamiliarMatch: shell-style `pattern` (Go's path.Match, base::path_match: `*`, `?`,
// `[...]`, `\` escapes; `*` does not cross `/`) against the familiar string, then the
// familiar name.
// A malformed pattern is InvalidArgument "syntax error in pattern".
base::Result<bool> familiar_match(std::string_view pattern, const Reference& ref);

}  // namespace mydocker::image::reference
