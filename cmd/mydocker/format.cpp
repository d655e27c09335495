// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/format.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace mydocker::cli {

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

std::string ellipsis(std::string_view s, size_t max) {
  if (rune_count(s) <= max) {
    return std::string(s);
  }
  if (max == 0) {
    return "";
  }
  std::string out;
  size_t runes = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (runes == max - 1) {
        break;
      }
      ++runes;
    }
    out += s[i];
  }
  return out + "…";
}

std::string short_id(std::string_view id) {
  size_t colon = id.find(':');
  if (colon != std::string_view::npos) {
    id.remove_prefix(colon + 1);
  }
  return std::string(id.substr(0, 12));
}

std::string go_time_string(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  std::array<char, 64> buf{};
  size_t n = strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return std::string(buf.data(), n);
}

std::string tabwrite(std::string_view text, size_t minwidth, size_t padding) {
  struct Line {
    std::vector<std::string> cells;  // tab-terminated cells
    std::string tail;                // text after the last tab
    bool newline = false;
  };
  std::vector<Line> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    Line line;
    line.newline = nl != std::string_view::npos;
    size_t start = 0;
    size_t tab;
    while ((tab = raw.find('\t', start)) != std::string_view::npos) {
      line.cells.emplace_back(raw.substr(start, tab - start));
      start = tab + 1;
    }
    line.tail = std::string(raw.substr(start));
    lines.push_back(std::move(line));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  // widths[i][col]: the width of column `col` for line i, shared by the run of consecutive
  // lines that have that column (Go's column blocks).
  std::vector<std::vector<size_t>> widths(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    widths[i].resize(lines[i].cells.size(), 0);
  }
  size_t max_cols = 0;
  for (const auto& l : lines) {
    max_cols = std::max(max_cols, l.cells.size());
  }
  for (size_t col = 0; col < max_cols; ++col) {
    size_t i = 0;
    while (i < lines.size()) {
      if (lines[i].cells.size() <= col) {
        ++i;
        continue;
      }
      size_t j = i;
      size_t width = minwidth;
      while (j < lines.size() && lines[j].cells.size() > col) {
        width = std::max(width, rune_count(lines[j].cells[col]) + padding);
        ++j;
      }
      for (size_t k = i; k < j; ++k) {
        widths[k][col] = width;
      }
      i = j;
    }
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    for (size_t col = 0; col < lines[i].cells.size(); ++col) {
      const std::string& c = lines[i].cells[col];
      out += c;
      out.append(widths[i][col] - rune_count(c), ' ');
    }
    out += lines[i].tail;
    if (lines[i].newline) {
      out += '\n';
    }
  }
  return out;
}

Format parse_format(std::string_view format) {
  Format f;
  std::string s(format);
  if (s == "json") {
    s = "{{json .}}";
  } else if (s == "table") {
    f.table = true;
    s.clear();
  } else if (s.starts_with("table ")) {
    f.table = true;
    s = s.substr(6);
    size_t b = s.find_first_not_of(' ');
    size_t e = s.find_last_not_of(' ');
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'n')) {
      out += s[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  f.tmpl = out;
  return f;
}

base::Result<std::string> render_rows(const Format& format, const OJson& headers,
                                      const std::vector<OJson>& rows) {
  Template t = MYDOCKER_TRY(Template::parse(format.tmpl));
  std::string out;
  if (format.table) {
    // Header cells are the template run over titles; a title for an unknown field is the
    // field's own name upper-cased, as docker derives it.
    std::string header = MYDOCKER_TRY(t.execute(headers));
    out += header + "\n";
  }
  for (const auto& row : rows) {
    out += MYDOCKER_TRY(t.execute(row, true));
    out += '\n';
  }
  return format.table ? tabwrite(out) : out;
}

}  // namespace mydocker::cli
