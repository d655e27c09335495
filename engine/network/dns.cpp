// SPDX-License-Identifier: Apache-2.0
#include "engine/network/dns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "runtime/base/strings.h"

namespace mydocker::engine::network::dns {
namespace {

using base::ErrorCode;

constexpr size_t kHeader = 12;
constexpr uint16_t kFlagQr = 0x8000;
constexpr uint16_t kFlagAa = 0x0400;
constexpr uint16_t kFlagTc = 0x0200;
constexpr uint16_t kFlagRd = 0x0100;
constexpr uint16_t kFlagRa = 0x0080;
constexpr size_t kMaxTcpMessage = 65535;

uint16_t get16(std::span<const uint8_t> m, size_t at) {
  return static_cast<uint16_t>((m[at] << 8) | m[at + 1]);
}

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v & 0xffff));
}

base::Error malformed(std::string_view why) {
  return base::make_error(ErrorCode::InvalidArgument, "malformed DNS message: {}", why);
}

std::string encode_name(std::string_view name) {
  std::string out;
  for (const auto& label : base::split(name, '.')) {
    if (label.empty()) {
      continue;
    }
    out.push_back(static_cast<char>(std::min<size_t>(label.size(), 63)));
    out.append(label.substr(0, 63));
  }
  out.push_back('\0');
  return out;
}

std::string reply_header(uint16_t id, uint16_t query_flags, int rcode, uint16_t qd, uint16_t an,
                         bool truncated) {
  // Opcode and RD are the query's; RA because we forward (recursion is available).
  uint16_t flags = static_cast<uint16_t>(kFlagQr | (query_flags & 0x7800) |
                                         (query_flags & kFlagRd) | kFlagRa | (rcode & 0xf));
  if (truncated) {
    flags |= kFlagTc;
  }
  std::string out;
  put16(out, id);
  put16(out, flags);
  put16(out, qd);
  put16(out, an);
  put16(out, 0);
  put16(out, 0);
  return out;
}

// "4.3.2.1.in-addr.arpa" -> 1.2.3.4.
std::optional<Ipv4> reverse_address(std::string_view name) {
  std::string lower;
  for (char c : name) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  constexpr std::string_view kSuffix = ".in-addr.arpa";
  if (lower.ends_with('.')) {
    lower.pop_back();
  }
  if (!std::string_view(lower).ends_with(kSuffix)) {
    return std::nullopt;
  }
  auto parts = base::split(std::string_view(lower).substr(0, lower.size() - kSuffix.size()), '.');
  if (parts.size() != 4) {
    return std::nullopt;
  }
  return parse_ipv4(parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0]);
}

}  // namespace

base::Result<std::string> read_name(std::span<const uint8_t> msg, size_t& offset) {
  std::string name;
  size_t at = offset;
  bool jumped = false;
  int jumps = 0;
  size_t wire_len = 0;
  while (true) {
    if (at >= msg.size()) {
      return malformed("name runs past the end");
    }
    uint8_t len = msg[at];
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= msg.size()) {
        return malformed("truncated compression pointer");
      }
      size_t target = static_cast<size_t>(((len & 0x3f) << 8) | msg[at + 1]);
      // Only backwards: a pointer forward or to itself could loop.
      if (target >= at || ++jumps > 32) {
        return malformed("bad compression pointer");
      }
      if (!jumped) {
        offset = at + 2;
        jumped = true;
      }
      at = target;
      continue;
    }
    if ((len & 0xc0) != 0) {
      return malformed("unknown label type");
    }
    if (len == 0) {
      if (!jumped) {
        offset = at + 1;
      }
      break;
    }
    if (at + 1 + len > msg.size()) {
      return malformed("label runs past the end");
    }
    wire_len += len + 1;
    if (wire_len > 255) {
      return malformed("name longer than 255 bytes");
    }
    if (!name.empty()) {
      name.push_back('.');
    }
    name.append(reinterpret_cast<const char*>(msg.data() + at + 1), len);
    at += 1 + len;
  }
  return name;
}

base::Result<Query> parse_query(std::span<const uint8_t> msg) {
  if (msg.size() < kHeader) {
    return malformed("shorter than a header");
  }
  Query q;
  q.id = get16(msg, 0);
  q.flags = get16(msg, 2);
  if (get16(msg, 4) != 1) {
    return malformed("question count is not 1");
  }
  size_t at = kHeader;
  q.question.name = MYDOCKER_TRY(read_name(msg, at));
  if (at + 4 > msg.size()) {
    return malformed("truncated question");
  }
  q.question.type = get16(msg, at);
  q.question.klass = get16(msg, at + 2);
  q.question_end = at + 4;
  return q;
}

std::string error_reply(std::span<const uint8_t> query, int rcode) {
  if (query.size() < kHeader) {
    return {};
  }
  auto q = parse_query(query);
  if (!q) {
    return reply_header(get16(query, 0), get16(query, 2), rcode, 0, 0, false);
  }
  std::string out = reply_header(q->id, q->flags, rcode, 1, 0, false);
  out.append(reinterpret_cast<const char*>(query.data() + kHeader), q->question_end - kHeader);
  return out;
}

Decision answer(std::span<const uint8_t> query, const Names& names, bool can_forward,
                size_t max_size) {
  Decision d;
  if (query.size() < kHeader || (get16(query, 2) & kFlagQr) != 0) {
    return d;  // Drop: not a query; answering responses could loop between resolvers
  }
  uint16_t flags = get16(query, 2);
  if (((flags >> 11) & 0xf) != 0) {
    d.kind = Decision::Kind::Reply;
    d.reply = error_reply(query, kRcodeNotImp);
    return d;
  }
  auto q = parse_query(query);
  if (!q) {
    d.kind = Decision::Kind::Reply;
    d.reply = error_reply(query, kRcodeFormErr);
    return d;
  }
  std::string_view question(reinterpret_cast<const char*>(query.data() + kHeader),
                            q->question_end - kHeader);
  auto forward = [&] {
    if (can_forward) {
      d.kind = Decision::Kind::Forward;
    } else {
      d.kind = Decision::Kind::Reply;
      d.reply = error_reply(query, kRcodeServFail);
    }
    return d;
  };
  if (q->question.klass != kClassIn) {
    return forward();
  }
  uint16_t type = q->question.type;
  if (type == kTypeA || type == kTypeAaaa) {
    auto addrs = names.lookup ? names.lookup(q->question.name) : std::nullopt;
    if (!addrs) {
      return forward();
    }
    std::vector<Ipv4> answers = type == kTypeA ? *addrs : std::vector<Ipv4>{};
    size_t fit = answers.size();
    size_t room = max_size > kHeader + question.size() ? max_size - kHeader - question.size() : 0;
    fit = std::min(fit, room / 16);  // each A record takes 16 bytes with a name pointer
    std::string out = reply_header(q->id, q->flags, kRcodeNoError, 1, static_cast<uint16_t>(fit),
                                   fit < answers.size());
    out[2] = static_cast<char>(out[2] | (kFlagAa >> 8));
    out.append(question);
    for (size_t i = 0; i < fit; ++i) {
      put16(out, 0xc000 | kHeader);  // the question's name
      put16(out, kTypeA);
      put16(out, kClassIn);
      put32(out, kTtl);
      put16(out, 4);
      put32(out, answers[i]);
    }
    d.kind = Decision::Kind::Reply;
    d.reply = std::move(out);
    return d;
  }
  if (type == kTypePtr && names.reverse) {
    auto ip = reverse_address(q->question.name);
    auto target = ip ? names.reverse(*ip) : std::nullopt;
    if (!target) {
      return forward();
    }
    std::string rdata = encode_name(*target);
    std::string out = reply_header(q->id, q->flags, kRcodeNoError, 1, 1, false);
    out[2] = static_cast<char>(out[2] | (kFlagAa >> 8));
    out.append(question);
    put16(out, 0xc000 | kHeader);
    put16(out, kTypePtr);
    put16(out, kClassIn);
    put32(out, kTtl);
    put16(out, static_cast<uint16_t>(rdata.size()));
    out.append(rdata);
    d.kind = Decision::Kind::Reply;
    d.reply = std::move(out);
    return d;
  }
  return forward();
}

std::string build_query(uint16_t id, std::string_view name, uint16_t type) {
  std::string out;
  put16(out, id);
  put16(out, kFlagRd);
  put16(out, 1);
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  out.append(encode_name(name));
  put16(out, type);
  put16(out, kClassIn);
  return out;
}

base::Result<Response> parse_response(std::span<const uint8_t> msg) {
  if (msg.size() < kHeader) {
    return malformed("shorter than a header");
  }
  Response r;
  r.id = get16(msg, 0);
  r.flags = get16(msg, 2);
  r.rcode = r.flags & 0xf;
  r.truncated = (r.flags & kFlagTc) != 0;
  uint16_t qd = get16(msg, 4);
  uint16_t an = get16(msg, 6);
  size_t at = kHeader;
  for (uint16_t i = 0; i < qd; ++i) {
    Question q;
    q.name = MYDOCKER_TRY(read_name(msg, at));
    if (at + 4 > msg.size()) {
      return malformed("truncated question");
    }
    q.type = get16(msg, at);
    q.klass = get16(msg, at + 2);
    at += 4;
    r.questions.push_back(std::move(q));
  }
  for (uint16_t i = 0; i < an; ++i) {
    MYDOCKER_TRY(read_name(msg, at));
    if (at + 10 > msg.size()) {
      return malformed("truncated record");
    }
    uint16_t type = get16(msg, at);
    r.ttl = (static_cast<uint32_t>(get16(msg, at + 4)) << 16) | get16(msg, at + 6);
    uint16_t rdlen = get16(msg, at + 8);
    at += 10;
    if (at + rdlen > msg.size()) {
      return malformed("truncated record data");
    }
    if (type == kTypeA && rdlen == 4) {
      r.a.push_back((static_cast<Ipv4>(get16(msg, at)) << 16) | get16(msg, at + 2));
    } else if (type == kTypePtr) {
      size_t p = at;
      r.ptr.push_back(MYDOCKER_TRY(read_name(msg, p)));
    }
    at += rdlen;
  }
  return r;
}

ResolvConf parse_resolv_conf(std::string_view text) {
  ResolvConf rc;
  for (const auto& raw : base::split(text, '\n')) {
    std::string_view line = base::trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    std::vector<std::string> fields;
    for (const auto& f : base::split(line, ' ')) {
      for (const auto& g : base::split(f, '\t')) {
        if (!g.empty()) {
          fields.push_back(g);
        }
      }
    }
    if (fields.size() < 2) {
      continue;
    }
    if (fields[0] == "nameserver") {
      if (parse_ipv4(fields[1])) {
        rc.nameservers.push_back(fields[1]);
      }
    } else if (fields[0] == "search" || fields[0] == "domain") {
      // The last search/domain line wins, as in the resolver.
      rc.search.assign(fields.begin() + 1, fields.end());
    } else if (fields[0] == "options") {
      rc.options.insert(rc.options.end(), fields.begin() + 1, fields.end());
    }
  }
  return rc;
}

std::string embedded_resolv_conf(const ResolvConf& host, const std::vector<std::string>& dns_search,
                                 const std::vector<std::string>& dns_options) {
  const auto& search = dns_search.empty() ? host.search : dns_search;
  std::vector<std::string> options = dns_options.empty() ? host.options : dns_options;
  bool ndots = false;
  for (const auto& o : options) {
    ndots = ndots || o.starts_with("ndots:");
  }
  if (!ndots) {
    options.push_back("ndots:0");
  }
  std::string out;
  if (!search.empty()) {
    out += "search " + base::join(search, " ") + "\n";
  }
  out += std::string("nameserver ") + kEmbeddedAddress + "\n";
  out += "options " + base::join(options, " ") + "\n";
  return out;
}

std::vector<Upstream> upstreams_for(const ResolvConf& host, const std::vector<std::string>& dns) {
  std::vector<Upstream> out;
  for (const auto& s : dns.empty() ? host.nameservers : dns) {
    if (auto ip = parse_ipv4(s); ip && s != kEmbeddedAddress) {
      out.push_back({*ip, 53});
    }
  }
  return out;
}

// --- Responder ---

namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in to_sockaddr(const Upstream& u) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(u.port);
  a.sin_addr.s_addr = htonl(u.ip);
  return a;
}

base::Result<base::Fd> upstream_socket(const Upstream& u) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return base::sys_error("dns upstream socket");
  }
  base::Fd s = base::Fd::adopt(fd);
  sockaddr_in a = to_sockaddr(u);
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&a), sizeof(a)) != 0) {
    return base::sys_error("connect to dns upstream `{}`", format_ipv4(u.ip));
  }
  return s;
}

}  // namespace

// One responder's sockets, TCP clients and forwards in flight; driven by the shared loop
// (always under its lock, so never concurrently).
struct Responder::State {
  struct TcpClient {
    base::Fd fd;
    std::string in;
  };
  // A forwarded query waiting for an upstream.
  struct Pending {
    base::Fd fd;  // UDP socket connected to the current upstream
    std::string query;
    size_t upstream = 0;
    Clock::time_point deadline;
    // Where the answer goes: a UDP client address, or a TCP client (by its fd number).
    sockaddr_storage client{};
    socklen_t client_len = 0;
    int tcp_client = -1;
  };

  base::Fd udp;
  base::Fd tcp;
  Names names;
  ResponderOptions options;
  std::map<int, TcpClient> tcp_clients;  // by fd
  std::map<int, Pending> pending;        // by upstream socket fd

  void add_fds(std::vector<pollfd>& fds) const {
    fds.push_back({udp.get(), POLLIN, 0});
    if (tcp.valid()) {
      fds.push_back({tcp.get(), POLLIN, 0});
    }
    for (const auto& [fd, c] : tcp_clients) {
      fds.push_back({fd, POLLIN, 0});
    }
    for (const auto& [fd, p] : pending) {
      fds.push_back({fd, POLLIN, 0});
    }
  }

  std::optional<Clock::time_point> next_deadline() const {
    std::optional<Clock::time_point> out;
    for (const auto& [fd, p] : pending) {
      if (!out || p.deadline < *out) {
        out = p.deadline;
      }
    }
    return out;
  }

  void send_to_client(const Pending& p, std::string_view reply) {
    if (p.tcp_client >= 0) {
      auto it = tcp_clients.find(p.tcp_client);
      if (it == tcp_clients.end()) {
        return;  // the client left meanwhile
      }
      std::string framed;
      put16(framed, static_cast<uint16_t>(reply.size()));
      framed.append(reply);
      // Small messages to a local client: a client that does not read is dropped.
      if (::send(it->second.fd.get(), framed.data(), framed.size(), MSG_DONTWAIT | MSG_NOSIGNAL) !=
          static_cast<ssize_t>(framed.size())) {
        tcp_clients.erase(it);
      }
      return;
    }
    (void)::sendto(udp.get(), reply.data(), reply.size(), MSG_DONTWAIT,
                   reinterpret_cast<const sockaddr*>(&p.client), p.client_len);
  }

  // Sends `p.query` to upstream `p.upstream` onwards; false when none could be tried.
  bool try_upstream(Pending& p) {
    while (p.upstream < options.upstreams.size()) {
      auto s = upstream_socket(options.upstreams[p.upstream]);
      if (s && ::send(s->get(), p.query.data(), p.query.size(), MSG_DONTWAIT) ==
                   static_cast<ssize_t>(p.query.size())) {
        p.fd = std::move(*s);
        p.deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
        return true;
      }
      ++p.upstream;
    }
    return false;
  }

  void handle(std::span<const uint8_t> query, Pending target) {
    bool room = pending.size() < options.max_pending && !options.upstreams.empty();
    size_t max_size = target.tcp_client >= 0 ? kMaxTcpMessage : 512;
    Decision d = answer(query, names, room, max_size);
    if (d.kind == Decision::Kind::Reply) {
      send_to_client(target, d.reply);
      return;
    }
    if (d.kind == Decision::Kind::Drop) {
      return;
    }
    target.query.assign(reinterpret_cast<const char*>(query.data()), query.size());
    if (!try_upstream(target)) {
      send_to_client(target, error_reply(query, kRcodeServFail));
      return;
    }
    int fd = target.fd.get();
    pending.emplace(fd, std::move(target));
  }

  void fail_or_next(std::map<int, Pending>::iterator it) {
    Pending p = std::move(it->second);
    pending.erase(it);
    ++p.upstream;
    p.fd = base::Fd();
    if (!try_upstream(p)) {
      auto q = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(p.query.data()),
                                        p.query.size());
      send_to_client(p, error_reply(q, kRcodeServFail));
      return;
    }
    int fd = p.fd.get();
    pending.emplace(fd, std::move(p));
  }

  // `fd` (one of add_fds') is readable.
  void ready(int fd, std::vector<uint8_t>& buf) {
    if (fd == udp.get()) {
      // Drain what is queued, so one poll round serves a burst.
      for (int i = 0; i < 64; ++i) {
        Pending target;
        target.client_len = sizeof(target.client);
        ssize_t got = ::recvfrom(udp.get(), buf.data(), 4096, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&target.client), &target.client_len);
        if (got < 0) {
          break;
        }
        handle(std::span<const uint8_t>(buf.data(), static_cast<size_t>(got)), std::move(target));
      }
    } else if (tcp.valid() && fd == tcp.get()) {
      int c = ::accept4(tcp.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c >= 0) {
        tcp_clients[c].fd = base::Fd::adopt(c);
      }
    } else if (auto cit = tcp_clients.find(fd); cit != tcp_clients.end()) {
      ssize_t got = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (got <= 0) {
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          tcp_clients.erase(cit);
        }
        return;
      }
      std::string& in = cit->second.in;
      in.append(reinterpret_cast<const char*>(buf.data()), static_cast<size_t>(got));
      while (in.size() >= 2) {
        size_t len = (static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]);
        if (in.size() < 2 + len) {
          break;
        }
        std::string msg = in.substr(2, len);
        in.erase(0, 2 + len);
        Pending target;
        target.tcp_client = fd;
        handle(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(msg.data()), msg.size()),
               std::move(target));
        if (tcp_clients.count(fd) == 0) {
          break;  // dropped while answering
        }
      }
    } else if (auto pit = pending.find(fd); pit != pending.end()) {
      ssize_t got = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (got < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          fail_or_next(pit);  // ECONNREFUSED: nothing listens there
        }
        return;
      }
      std::span<const uint8_t> reply(buf.data(), static_cast<size_t>(got));
      const std::string& q = pit->second.query;
      // Not the answer to this query (a stray datagram): keep waiting.
      if (reply.size() < kHeader || reply[0] != static_cast<uint8_t>(q[0]) ||
          reply[1] != static_cast<uint8_t>(q[1]) || (get16(reply, 2) & kFlagQr) == 0) {
        return;
      }
      int rcode = get16(reply, 2) & 0xf;
      if (rcode == kRcodeServFail || rcode == 5 /* REFUSED */) {
        fail_or_next(pit);
        return;
      }
      send_to_client(pit->second,
                     std::string_view(reinterpret_cast<const char*>(reply.data()), reply.size()));
      pending.erase(pit);
    }
  }

  void expire(Clock::time_point now) {
    for (auto it = pending.begin(); it != pending.end();) {
      auto next = std::next(it);
      if (it->second.deadline <= now) {
        fail_or_next(it);
      }
      it = next;
    }
  }
};

namespace {

// The one poll thread of every responder in the process (a container on a user network costs
// two sockets, not a thread). Started with the first responder and kept for the process's
// life. Responders are served under mu_, so once remove() returns none of a responder's
// code runs again.
class Loop {
 public:
  static base::Result<Loop*> get() {
    static std::mutex once_mu;
    static Loop* loop = nullptr;  // never destroyed: its thread outlives static destructors
    std::lock_guard lk(once_mu);
    if (loop == nullptr) {
      int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (efd < 0) {
        return base::sys_error("eventfd for the dns responders");
      }
      auto* l = new Loop();
      l->wake_ = base::Fd::adopt(efd);
      std::thread([l] { l->run(); }).detach();
      loop = l;
    }
    return loop;
  }

  uint64_t add(std::shared_ptr<Responder::State> s) {
    std::lock_guard lk(mu_);
    uint64_t key = next_++;
    states_[key] = std::move(s);
    wake();
    return key;
  }

  void remove(uint64_t key) {
    std::lock_guard lk(mu_);
    states_.erase(key);
    wake();
  }

 private:
  void wake() {
    uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof(one));
  }

  void run() {
    std::vector<uint8_t> buf(kMaxTcpMessage);
    std::vector<pollfd> fds;
    std::vector<uint64_t> owners;  // fds[i] belongs to states_[owners[i]] (0: the wake fd)
    for (;;) {
      fds.clear();
      owners.clear();
      int timeout = -1;
      {
        std::lock_guard lk(mu_);
        fds.push_back({wake_.get(), POLLIN, 0});
        owners.push_back(0);
        auto now = Clock::now();
        for (const auto& [key, s] : states_) {
          s->add_fds(fds);
          owners.resize(fds.size(), key);
          if (auto d = s->next_deadline()) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d - now).count();
            int t = static_cast<int>(std::max<int64_t>(0, ms + 1));
            timeout = timeout < 0 ? t : std::min(timeout, t);
          }
        }
      }
      int n = ::poll(fds.data(), fds.size(), timeout);
      if (n < 0 && errno != EINTR) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // not expected; no spin
        continue;
      }
      std::lock_guard lk(mu_);
      if (fds[0].revents != 0) {
        uint64_t v = 0;
        (void)!::read(wake_.get(), &v, sizeof(v));
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) {
          continue;
        }
        // A responder removed meanwhile is skipped (its fds may even be reused by now).
        if (auto it = states_.find(owners[i]); it != states_.end()) {
          it->second->ready(fds[i].fd, buf);
        }
      }
      auto now = Clock::now();
      for (const auto& [key, s] : states_) {
        s->expire(now);
      }
    }
  }

  std::mutex mu_;  // guards states_ and serialises all responder work
  std::map<uint64_t, std::shared_ptr<Responder::State>> states_;
  uint64_t next_ = 1;
  base::Fd wake_;
};

}  // namespace

base::Result<std::unique_ptr<Responder>> Responder::start(base::Fd udp, base::Fd tcp, Names names,
                                                          ResponderOptions options) {
  if (!udp.valid()) {
    return base::make_error(ErrorCode::InvalidArgument, "dns responder needs a UDP socket");
  }
  for (int fd : {udp.get(), tcp.get()}) {
    if (fd >= 0) {
      int fl = ::fcntl(fd, F_GETFL);
      if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return base::sys_error("set the dns sockets non-blocking");
      }
    }
  }
  auto* loop = MYDOCKER_TRY(Loop::get());
  auto state = std::make_shared<State>();
  state->udp = std::move(udp);
  state->tcp = std::move(tcp);
  state->names = std::move(names);
  state->options = std::move(options);
  std::unique_ptr<Responder> r(new Responder());
  r->key_ = loop->add(std::move(state));
  return r;
}

Responder::~Responder() {
  stop();
}

void Responder::stop() {
  if (key_ != 0 && !stopped_.exchange(true)) {
    if (auto loop = Loop::get()) {
      (*loop)->remove(key_);
    }
  }
}

}  // namespace mydocker::engine::network::dns
