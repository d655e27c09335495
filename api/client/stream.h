// SPDX-License-Identifier: Apache-2.0
// Demultiplexing of Docker's multiplexed stream (logs and attach without a TTY; the framing
// is api/wire/stream.h). Frames may be split anywhere by the transport: the demuxer buffers
// partial headers and hands payload bytes out as they arrive.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>

#include "api/wire/stream.h"
#include "runtime/base/error.h"

namespace mydocker::api::client {

using StreamKind = wire::StdStream;

class StreamDemuxer {
 public:
  using Sink = std::function<void(StreamKind kind, std::string_view payload)>;
  explicit StreamDemuxer(Sink sink) : sink_(std::move(sink)) {}

  // Feeds transport bytes. Errors: InvalidArgument for an unknown stream byte or non-zero
  // padding (the stream is not multiplexed, or is corrupt).
  base::Result<void> feed(std::string_view data);
  // True when the input ended on a frame boundary.
  bool at_boundary() const { return header_len_ == 0 && left_ == 0; }

 private:
  Sink sink_;
  std::array<char, wire::kFrameHeaderSize> header_{};
  size_t header_len_ = 0;
  uint32_t left_ = 0;  // payload bytes still to come in the current frame
  StreamKind kind_ = StreamKind::Stdout;
};

}  // namespace mydocker::api::client
