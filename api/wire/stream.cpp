// SPDX-License-Identifier: Apache-2.0
#include "api/wire/stream.h"

namespace mydocker::api::wire {

std::array<char, kFrameHeaderSize> frame_header(StdStream stream, uint32_t length) {
  return {static_cast<char>(stream),
          0,
          0,
          0,
          static_cast<char>((length >> 24) & 0xff),
          static_cast<char>((length >> 16) & 0xff),
          static_cast<char>((length >> 8) & 0xff),
          static_cast<char>(length & 0xff)};
}

std::string frame(StdStream stream, std::string_view payload) {
  auto h = frame_header(stream, static_cast<uint32_t>(payload.size()));
  std::string out(h.data(), h.size());
  out.append(payload);
  return out;
}

bool parse_frame_header(std::string_view bytes, FrameHeader& out) {
  if (bytes.size() < kFrameHeaderSize || bytes[1] != 0 || bytes[2] != 0 || bytes[3] != 0) {
    return false;
  }
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])); };
  if (b(0) > 3) {
    return false;
  }
  out.stream = static_cast<StdStream>(b(0));
  out.length = (b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
  return true;
}

}  // namespace mydocker::api::wire
