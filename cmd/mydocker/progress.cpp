// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/progress.h"

#include <time.h>

#include <array>
#include <cstdio>

#include "runtime/base/units.h"

namespace mydocker::cli {

namespace {

using nlohmann::json;

int64_t clock_now_ns() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t int_field(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) {
    return 0;
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  if (it->is_number()) {
    return static_cast<int64_t>(it->get<double>());
  }
  return 0;
}

std::string str_field(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Right-aligns to `width` (Go's "%8v").
std::string pad_left(std::string s, size_t width) {
  if (s.size() < width) {
    s.insert(0, width - s.size(), ' ');
  }
  return s;
}

std::string cursor_up(size_t n) {
  return n == 0 ? std::string() : "\x1b[" + std::to_string(n) + "A";
}

std::string cursor_down(size_t n) {
  return n == 0 ? std::string() : "\x1b[" + std::to_string(n) + "B";
}

constexpr const char* kEraseLine = "\x1b[2K";

}  // namespace

std::string human_size(double bytes) {
  return base::human_size(bytes, 4);
}

std::string duration_string(int64_t seconds) {
  if (seconds == 0) {
    return "0s";
  }
  std::string sign = seconds < 0 ? "-" : "";
  uint64_t s = seconds < 0 ? static_cast<uint64_t>(-seconds) : static_cast<uint64_t>(seconds);
  uint64_t h = s / 3600;
  uint64_t m = (s / 60) % 60;
  s %= 60;
  if (h > 0) {
    return sign + std::to_string(h) + "h" + std::to_string(m) + "m" + std::to_string(s) + "s";
  }
  if (m > 0) {
    return sign + std::to_string(m) + "m" + std::to_string(s) + "s";
  }
  return sign + std::to_string(s) + "s";
}

std::string progress_string(const ProgressDetail& p, int width, int64_t now_ns) {
  if (p.current <= 0 && p.total <= 0) {
    return "";
  }
  if (p.total <= 0) {
    if (p.units.empty()) {
      return pad_left(human_size(static_cast<double>(p.current)), 8);
    }
    return std::to_string(p.current) + " " + p.units;
  }
  int percentage =
      static_cast<int>(static_cast<double>(p.current) / static_cast<double>(p.total) * 100) / 2;
  percentage = std::min(percentage, 50);
  std::string bar;
  if (width > 110) {
    int spaces = std::max(50 - percentage, 0);
    bar = "[" + std::string(static_cast<size_t>(std::max(percentage, 0)), '=') + ">" +
          std::string(static_cast<size_t>(spaces), ' ') + "] ";
  }
  std::string numbers;
  if (p.hide_counts) {
  } else if (p.units.empty()) {
    std::string current = human_size(static_cast<double>(p.current));
    numbers = p.current > p.total
                  ? pad_left(current, 8)
                  : pad_left(current, 8) + "/" + human_size(static_cast<double>(p.total));
  } else {
    numbers = p.current > p.total
                  ? std::to_string(p.current) + " " + p.units
                  : std::to_string(p.current) + "/" + std::to_string(p.total) + " " + p.units;
  }
  std::string left;
  if (p.current > 0 && p.start > 0 && percentage < 50) {
    // Go: (now - start) / current per unit, times what is left, truncated to seconds.
    int64_t from_start = now_ns - p.start * 1000000000;
    int64_t per_entry = from_start / p.current;
    int64_t left_ns = (p.total - p.current) * per_entry;
    if (width > 50) {
      left = " " + duration_string(left_ns / 1000000000);
    }
  }
  return bar + numbers + left;
}

ProgressRenderer::ProgressRenderer(bool tty, int width, std::function<int64_t()> now_ns)
    : tty_(tty), width_(width), now_ns_(now_ns ? std::move(now_ns) : clock_now_ns) {}

std::string ProgressRenderer::render(const json& m) {
  if (error_ || !m.is_object()) {
    return "";
  }
  if (auto aux = m.find("aux"); aux != m.end() && !aux->is_null()) {
    if (aux_) {
      aux_(*aux);
    }
    return "";
  }
  std::string out;
  std::string id = str_field(m, "id");
  std::string status = str_field(m, "status");
  std::string stream = str_field(m, "stream");
  std::string progress_message = str_field(m, "progress");
  auto pd = m.find("progressDetail");
  bool has_progress = pd != m.end() && pd->is_object();
  ProgressDetail detail;
  if (has_progress) {
    detail.current = int_field(*pd, "current");
    detail.total = int_field(*pd, "total");
    detail.start = int_field(*pd, "start");
    detail.units = str_field(*pd, "units");
    auto hc = pd->find("hidecounts");
    detail.hide_counts = hc != pd->end() && hc->is_boolean() && hc->get<bool>();
  }
  size_t diff = 0;
  if (!id.empty() && (has_progress || !progress_message.empty())) {
    auto it = ids_.find(id);
    size_t line_no;
    if (it == ids_.end()) {
      line_no = ids_.size();
      ids_[id] = line_no;
      if (tty_) {
        out += "\n";
      }
    } else {
      line_no = it->second;
    }
    diff = ids_.size() - line_no;
    if (tty_) {
      out += cursor_up(diff);
    }
  } else {
    // Something that is not a progress line: the lines above are history now.
    ids_.clear();
  }
  std::string err;
  if (auto ed = m.find("errorDetail"); ed != m.end() && ed->is_object()) {
    err = str_field(*ed, "message");
    if (err.empty()) {
      err = str_field(m, "error");
    }
    error_ = err;
  } else if (auto e = m.find("error"); e != m.end() && !e->is_null()) {
    error_ = e->is_string() ? e->get<std::string>() : e->dump();
  }
  if (!error_) {
    std::string progress = has_progress ? progress_string(detail, width_, now_ns_()) : "";
    std::string endl;
    bool skip = false;
    if (tty_ && stream.empty() && has_progress) {
      out += kEraseLine;
      endl = "\r";
      out += endl;
    } else if (has_progress && !progress.empty()) {
      skip = true;  // no bars without a terminal
    }
    if (!skip) {
      if (!id.empty()) {
        out += id + ": ";
      }
      if (std::string from = str_field(m, "from"); !from.empty()) {
        out += "(from " + from + ") ";
      }
      if (has_progress && tty_) {
        out += status + " " + progress + endl;
      } else if (!progress_message.empty()) {
        out += status + " " + progress_message + endl;
      } else if (!stream.empty()) {
        out += stream + endl;
      } else {
        out += status + endl + "\n";
      }
    }
  }
  if (!id.empty() && tty_) {
    out += cursor_down(diff);
  }
  return out;
}

std::string ProgressRenderer::line(std::string_view text) {
  size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) {
    return "";
  }
  json m = json::parse(text.substr(b), nullptr, false);
  if (m.is_discarded()) {
    return "";
  }
  return render(m);
}

std::string ProgressRenderer::feed(std::string_view data) {
  buf_.append(data);
  std::string out;
  size_t start = 0;
  size_t nl;
  while ((nl = buf_.find('\n', start)) != std::string::npos) {
    out += line(std::string_view(buf_).substr(start, nl - start));
    start = nl + 1;
  }
  buf_.erase(0, start);
  return out;
}

std::string ProgressRenderer::finish() {
  std::string out = line(buf_);
  buf_.clear();
  return out;
}

}  // namespace mydocker::cli
