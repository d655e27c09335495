// SPDX-License-Identifier: Apache-2.0
// ADD <url>: one GET through libcurl (redirects followed, proxies from the environment as
// libcurl reads them), the body hashed while it is written (the cache key needs it anyway).
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "engine/build/copy.h"
#include "engine/build/tree_internal.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::build {
namespace {

using base::ErrorCode;

struct Transfer {
  int fd = -1;
  EVP_MD_CTX* md = nullptr;
  long status = 0;
  std::string reason;       // the last status line's reason phrase
  std::string disposition;  // Content-Disposition
  std::string body;         // an error response's body
  std::optional<base::Error> error;
  const DownloadProgress* progress = nullptr;
  int64_t total = -1;  // Content-Length of the final response
  int64_t current = 0;
  int64_t reported = 0;  // `current` at the last report
  std::chrono::steady_clock::time_point last_report{};

  // moby's progress.Reader: a report per 1% of the total (512 KiB at most), rate-limited to
  // one per 100 ms except the final one.
  void report(bool last) {
    if (progress == nullptr || !*progress) {
      return;
    }
    int64_t every = 512 * 1024;
    if (total > 0) {
      every = std::min<int64_t>(every, total / 100);
    }
    if (!last && current - reported <= every) {
      return;
    }
    auto now = std::chrono::steady_clock::now();
    reported = current;
    if (!last && current != total && now - last_report < std::chrono::milliseconds(100)) {
      return;
    }
    last_report = now;
    (*progress)(current, total);
  }

  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
      // "HTTP/1.1 404 Not Found": a new response (redirects come one after the other).
      std::vector<std::string> parts = base::split(base::trim(line), ' ');
      t->status = parts.size() > 1 ? std::atol(parts[1].c_str()) : 0;
      t->reason.clear();
      for (size_t i = 2; i < parts.size(); ++i) {
        t->reason += (i > 2 ? " " : "") + parts[i];
      }
      t->disposition.clear();
      t->total = -1;
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      std::string key(line.substr(0, colon));
      for (char& c : key) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (key == "content-disposition") {
        t->disposition = std::string(base::trim(line.substr(colon + 1)));
      } else if (key == "content-length") {
        t->total = base::parse_int64(base::trim(line.substr(colon + 1))).value_or(-1);
      }
    }
    return size * n;
  }

  static size_t on_write(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    size_t len = size * n;
    if (t->status >= 400) {
      if (t->body.size() < 64 * 1024) {
        t->body.append(data, std::min(len, 64 * 1024 - t->body.size()));
      }
      return len;
    }
    EVP_DigestUpdate(t->md, data, len);
    base::Result<void> r = base::write_all(t->fd, std::string_view(data, len));
    if (!r) {
      t->error = std::move(r).error();
      return 0;
    }
    t->current += static_cast<int64_t>(len);
    t->report(false);
    return len;
  }
};

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct UrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// Docker's getFilenameForDownload: the URL path's last element, else Content-Disposition's
// filename, else "".
std::string file_name(const std::string& path, const std::string& disposition) {
  auto base = [](std::string_view p) {
    size_t slash = p.rfind('/');
    return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
  };
  if (!path.empty() && !path.ends_with('/')) {
    return base(path);
  }
  size_t at = disposition.find("filename=");
  if (at != std::string::npos) {
    std::string v(base::trim(disposition.substr(at + 9)));
    if (size_t semi = v.find(';'); semi != std::string::npos && !v.starts_with('"')) {
      v.resize(semi);
    }
    if (v.size() >= 2 && v.front() == '"') {
      v = v.substr(1, v.find('"', 1) == std::string::npos ? v.size() - 1 : v.find('"', 1) - 1);
    }
    if (!v.empty() && !v.ends_with('/')) {
      return base(v);
    }
  }
  return "";
}

base::Error status_error(long status, std::string msg) {
  switch (status) {
    case 404:
      return base::Error(ErrorCode::NotFound, std::move(msg));
    case 400:
      return base::Error(ErrorCode::InvalidArgument, std::move(msg));
    case 401:
      return base::Error(ErrorCode::Unauthorized, std::move(msg));
    case 403:
      return base::Error(ErrorCode::PermissionDenied, std::move(msg));
    default:
      return base::Error(ErrorCode::Internal, std::move(msg));
  }
}

}  // namespace

base::Result<Download> download(std::string_view url_view, const std::string& dir,
                                const DownloadProgress& progress) {
  std::string url(url_view);
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return base::make_error(ErrorCode::InvalidArgument, "`{}` is not an http(s) URL", url);
  }
  std::unique_ptr<CURLU, UrlFree> u(curl_url());
  std::string path;
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return base::make_error(ErrorCode::InvalidArgument, "parse URL `{}`", url);
  }
  char* p = nullptr;
  if (curl_url_get(u.get(), CURLUPART_PATH, &p, CURLU_URLDECODE) == CURLUE_OK && p != nullptr) {
    path = p;
    curl_free(p);
  }

  Download out;
  out.url = url;
  std::string tmpl = dir + "/download-XXXXXX";
  base::Fd fd = base::Fd::adopt(::mkostemp(tmpl.data(), O_CLOEXEC));  // mode 0600
  out.path = tmpl;
  if (!fd) {
    return base::sys_error("create `{}`", out.path);
  }
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  Transfer t;
  t.fd = fd.get();
  t.md = md.get();
  t.progress = &progress;

  std::unique_ptr<CURL, CurlFree> c(curl_easy_init());
  if (!c) {
    return base::make_error(ErrorCode::Internal, "initialise libcurl");
  }
  char errbuf[CURL_ERROR_SIZE] = {};
  CURL* e = c.get();
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FILETIME, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "Go-http-client/1.1");
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  CURLcode rc = curl_easy_perform(e);
  auto cleanup = [&] { ::unlink(out.path.c_str()); };
  if (t.error) {
    cleanup();
    return std::move(*t.error).wrap(fmt::format("download `{}`", url));
  }
  if (rc != CURLE_OK) {
    cleanup();
    return base::make_error(ErrorCode::Unavailable, "Get \"{}\": {}", url,
                            errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  }
  if (t.status >= 400) {
    cleanup();
    std::string status = fmt::format("{} {}", t.status, t.reason);
    return status_error(t.status, fmt::format("failed to GET {} with status {}: {}", url,
                                              base::trim(status), base::trim(t.body)));
  }
  t.report(true);
  curl_off_t filetime = -1;
  curl_easy_getinfo(e, CURLINFO_FILETIME_T, &filetime);
  out.mtime = filetime > 0 ? static_cast<int64_t>(filetime) : 0;
  // Docker sets the file's times to Last-Modified, or to the epoch without one.
  timespec ts[2] = {{out.mtime, 0}, {out.mtime, 0}};
  ::futimens(fd.get(), ts);
  internal::Sha sha{};
  EVP_DigestFinal_ex(md.get(), sha.data(), nullptr);
  out.checksum = internal::hex(sha);
  out.name = file_name(path, t.disposition);
  if (out.name == "." || out.name == "..") {
    out.name.clear();  // never a name that walks the destination tree
  }
  return out;
}

}  // namespace mydocker::engine::build
