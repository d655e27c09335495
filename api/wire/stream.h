// SPDX-License-Identifier: Apache-2.0
// Docker's multiplexed stream framing (logs, attach and exec without a tty):
//
//   +--------+-----+-----+-----+-----+-----+-----+-----+------------------+
//   | stream |  0  |  0  |  0  |  payload length (uint32 big-endian)  | payload ...
//   +--------+-----+-----+-----+-----+-----+-----+-----+------------------+
//   stream: 0 stdin, 1 stdout, 2 stderr (3 systemerr in newer daemons)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mydocker::api::wire {

enum class StdStream : uint8_t { Stdin = 0, Stdout = 1, Stderr = 2, SystemErr = 3 };

inline constexpr size_t kFrameHeaderSize = 8;

std::array<char, kFrameHeaderSize> frame_header(StdStream stream, uint32_t length);

// Header + payload in one string (payloads over 4 GiB are the caller's to split).
std::string frame(StdStream stream, std::string_view payload);

struct FrameHeader {
  StdStream stream;
  uint32_t length;
};
// Decodes the 8 bytes at the front of `bytes`; false when fewer than 8 or the padding is not 0.
bool parse_frame_header(std::string_view bytes, FrameHeader& out);

}  // namespace mydocker::api::wire
