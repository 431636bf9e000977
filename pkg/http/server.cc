// SPDX-License-Identifier: Apache-2.0
#include "pkg/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "pkg/base/clock.h"

namespace rebootd::http {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;  // request line plus all header lines
constexpr size_t kMaxChunkLineBytes = 4096;
constexpr size_t kReadBytes = 16 * 1024;
// How long a connection that is being closed after an error keeps draining what the client
// still sends, so that closing with unread data does not reset the connection before the
// client has read the error response.
constexpr std::chrono::milliseconds kLingerDrain{200};

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      break;
  }
  if (status >= 200 && status < 300) return "OK";
  if (status >= 400 && status < 500) return "Client Error";
  if (status >= 500 && status < 600) return "Server Error";
  return "Unknown";
}

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits a comma-separated header value into trimmed, non-empty elements.
std::vector<std::string_view> SplitList(std::string_view value) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = value.find(',');
    std::string_view item = TrimOws(value.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

bool HasToken(const Headers& headers, std::string_view name, std::string_view token) {
  for (const auto& [key, value] : headers.items) {
    if (!EqualsIgnoreCase(key, name)) continue;
    for (std::string_view item : SplitList(value)) {
      if (EqualsIgnoreCase(item, token)) return true;
    }
  }
  return false;
}

bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string PeerOf(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
  return std::string(ip) + ":" + std::to_string(ntohs(addr.sin_port));
}

// "host:port" with a numeric IPv4 host or "localhost"; port 0 picks a free port.
Result<sockaddr_in> ParseListen(std::string_view listen) {
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid listen address \"" + std::string(listen) + "\": " + std::string(why));
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return invalid("want HOST:PORT");
  std::string host(listen.substr(0, colon));
  std::string_view port_text = listen.substr(colon + 1);
  // An empty host would mean "all interfaces"; that has to be asked for explicitly (0.0.0.0).
  if (host.empty()) return invalid("the host is missing (use 127.0.0.1:PORT)");
  if (host == "localhost") host = "127.0.0.1";
  uint64_t port = 0;
  if (!ParseDecimal(port_text, &port) || port > 65535) return invalid("bad port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return invalid("the host must be an IPv4 address or localhost");
  }
  return addr;
}

// Reads a request's bytes from a socket, keeping what follows it (pipelining), within deadlines:
// Arm() starts the wait for a request (idle deadline); the first byte that arrives moves the
// deadline to first byte + request_timeout. A read past the deadline ends like EOF, with
// timed_out() set.
class Reader {
 public:
  Reader(int fd, std::chrono::milliseconds idle, std::chrono::milliseconds request)
      : fd_(fd), idle_(idle), request_(request) {}

  void Arm() {
    const SteadyTime now = SystemClock::Instance().SteadyNow();
    started_ = pos_ < buf_.size();  // a pipelined request has started already
    deadline_ = now + (started_ ? request_ : idle_);
    timed_out_ = false;
  }
  bool timed_out() const { return timed_out_; }
  bool started() const { return started_; }

  enum class LineStatus { kOk, kEof, kTooLong };

  // A line without its CRLF. kTooLong when more than `max` bytes arrive without a CRLF.
  LineStatus ReadLine(size_t max, std::string* line) {
    size_t scanned = pos_;
    while (true) {
      size_t end = buf_.find("\r\n", scanned);
      if (end != std::string::npos) {
        if (end - pos_ > max) return LineStatus::kTooLong;
        line->assign(buf_, pos_, end - pos_);
        pos_ = end + 2;
        return LineStatus::kOk;
      }
      if (buf_.size() - pos_ > max) return LineStatus::kTooLong;
      scanned = buf_.size() > pos_ ? buf_.size() - 1 : pos_;
      if (!ReadMore()) return LineStatus::kEof;
    }
  }

  // Appends exactly `n` bytes to `out`; false on EOF.
  bool ReadExact(size_t n, std::string* out) {
    while (buf_.size() - pos_ < n) {
      if (!ReadMore()) return false;
    }
    out->append(buf_, pos_, n);
    pos_ += n;
    return true;
  }

  // Drops consumed bytes; call between requests.
  void Compact() {
    buf_.erase(0, pos_);
    pos_ = 0;
  }

 private:
  bool ReadMore() {
    char tmp[kReadBytes];
    while (true) {
      auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline_ - SystemClock::Instance().SteadyNow());
      if (remaining.count() <= 0) {
        timed_out_ = true;
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(remaining.count(), 1 << 30)));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return false;
      if (r == 0) continue;  // the deadline check above ends it
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
      if (!started_) {
        started_ = true;
        deadline_ = SystemClock::Instance().SteadyNow() + request_;
      }
      return true;
    }
  }

  int fd_;
  const std::chrono::milliseconds idle_;
  const std::chrono::milliseconds request_;
  SteadyTime deadline_{};
  bool started_ = false;
  bool timed_out_ = false;
  std::string buf_;
  size_t pos_ = 0;
};

// The outcome of reading one request: 0 = a request, -1 = the peer closed (or the server is
// stopping) between requests, otherwise the HTTP status of the error to answer with.
constexpr int kRequestOk = 0;
constexpr int kPeerClosed = -1;
// Server::ParseStream writes its input into a socket pair before reading: at most this much.
constexpr size_t kParseStreamMaxBytes = 64 * 1024;

struct ReadOutcome {
  int status = kRequestOk;
  std::string reason;  // for error answers
  bool keep_alive = true;
};

}  // namespace

struct Server::Impl {
  struct Connection {
    int fd = -1;  // guarded by Impl::mu; -1 once closed
    std::thread thread;
    // Waiting for (or reading) a request since `since`, as opposed to busy in the handler or
    // writing an answer. Guarded by Impl::mu.
    bool waiting = true;
    SteadyTime since{};
    bool evicted = false;  // closed to make room; no longer counted in `active`
  };

  Impl(ServerOptions opts, Handler h) : options(std::move(opts)), handler(std::move(h)) {}

  void AcceptLoop();
  void Serve(uint64_t id, int fd);
  ReadOutcome ReadRequest(int fd, Reader& reader, ServerRequest* request);
  void Hang(int fd);
  void Finish(uint64_t id, bool reset);
  void Reap();
  void SendError(int fd, int status, const std::string& reason);
  void SetWaiting(uint64_t id, bool waiting);
  bool EvictOneLocked();  // mu held

  // Constant after construction.
  const ServerOptions options;
  const Handler handler;

  std::mutex lifecycle_mu;  // serialises Start and Stop
  bool started = false;     // guarded by lifecycle_mu
  bool stopped = false;     // guarded by lifecycle_mu
  int listen_fd = -1;       // set by Start, closed by Stop
  std::atomic<int> port{0};
  std::string host;  // set by Start
  std::thread accept_thread;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::map<uint64_t, std::shared_ptr<Connection>> connections;  // guarded by mu
  std::vector<uint64_t> finished;                               // guarded by mu
  int active = 0;                                               // guarded by mu
  uint64_t next_id = 0;                                         // guarded by mu
};

void Server::Impl::AcceptLoop() {
  while (true) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (stopping.load()) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: back off briefly instead of spinning; connections will finish.
        SystemClock::Instance().SleepFor(std::chrono::milliseconds(10));
        Reap();
        continue;
      }
      return;  // the listener was shut down
    }
    Reap();
    std::lock_guard<std::mutex> lock(mu);
    // At the limit, the connection that has waited longest for a request makes room; only when
    // every connection is busy answering is the new one refused.
    if (active >= options.max_connections && !EvictOneLocked()) {
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uint64_t id = next_id++;
    auto connection = std::make_shared<Connection>();
    connection->fd = fd;
    connection->since = SystemClock::Instance().SteadyNow();
    try {
      // Started under mu, so the thread cannot finish (and take mu) before it is registered.
      connection->thread = std::thread([this, id, fd] { Serve(id, fd); });
    } catch (const std::system_error&) {
      ::close(fd);
      continue;
    }
    connections.emplace(id, std::move(connection));
    ++active;
  }
}

bool Server::Impl::EvictOneLocked() {
  std::shared_ptr<Connection> oldest;
  for (auto& [id, connection] : connections) {
    if (connection->evicted || !connection->waiting || connection->fd < 0) continue;
    if (!oldest || connection->since < oldest->since) oldest = connection;
  }
  if (!oldest) return false;
  // Its thread sees EOF and finishes; the descriptor is closed there, under mu.
  ::shutdown(oldest->fd, SHUT_RDWR);
  oldest->evicted = true;
  --active;
  return true;
}

void Server::Impl::SetWaiting(uint64_t id, bool waiting) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = connections.find(id);
  if (it == connections.end()) return;
  it->second->waiting = waiting;
  if (waiting) it->second->since = SystemClock::Instance().SteadyNow();
}

void Server::Impl::Reap() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (uint64_t id : finished) {
      auto it = connections.find(id);
      if (it == connections.end()) continue;
      done.push_back(std::move(it->second->thread));
      connections.erase(it);
    }
    finished.clear();
  }
  for (auto& thread : done) {
    if (thread.joinable()) thread.join();
  }
}

void Server::Impl::Finish(uint64_t id, bool reset) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = connections.find(id);
  if (it == connections.end()) return;
  Connection& connection = *it->second;
  if (connection.fd >= 0) {
    if (reset) {
      // Linger on with a zero timeout: close() sends RST and discards unsent data.
      linger lin{1, 0};
      ::setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    }
    // Closed under mu so that Stop() never shuts down a descriptor number that was reused.
    ::close(connection.fd);
    connection.fd = -1;
  }
  finished.push_back(id);
  if (!connection.evicted) --active;
}

void Server::Impl::SendError(int fd, int status, const std::string& reason) {
  std::string body = std::string(ReasonPhrase(status)) + ": " + reason + "\n";
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(ReasonPhrase(status)) +
      "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  if (!SendAll(fd, out)) return;
  // Lingering close: stop sending, then drain briefly so the answer is not lost to a reset
  // caused by unread request bytes.
  ::shutdown(fd, SHUT_WR);
  auto deadline = SystemClock::Instance().SteadyNow() + kLingerDrain;
  size_t drained = 0;
  while (!stopping.load() && drained < 4 * 1024 * 1024) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - SystemClock::Instance().SteadyNow());
    if (remaining.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(remaining.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char tmp[kReadBytes];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

ReadOutcome Server::Impl::ReadRequest(int fd, Reader& reader, ServerRequest* request) {
  ReadOutcome out;
  auto fail = [&](int status, std::string reason) {
    out.status = status;
    out.reason = std::move(reason);
    out.keep_alive = false;
    return out;
  };
  size_t budget = kMaxHeaderBytes;
  std::string line;
  // Request line; empty lines before it are ignored (RFC 9112 section 2.2).
  for (int empty = 0;; ++empty) {
    Reader::LineStatus st = reader.ReadLine(budget, &line);
    if (st == Reader::LineStatus::kEof) return fail(kPeerClosed, "");
    if (st == Reader::LineStatus::kTooLong) return fail(431, "request line too long");
    if (!line.empty()) break;
    if (empty > 8) return fail(400, "too many empty lines");
  }
  budget -= std::min(budget, line.size() + 2);
  if (line.find_first_of("\r\n") != std::string::npos) return fail(400, "bare CR or LF");
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) {
    return fail(400, "malformed request line");
  }
  request->method = line.substr(0, sp1);
  request->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string version = line.substr(sp2 + 1);
  if (!IsToken(request->method)) return fail(400, "malformed method");
  if (request->target.empty() ||
      (request->target.front() != '/' &&
       !(request->target == "*" && request->method == "OPTIONS")) ||
      std::any_of(request->target.begin(), request->target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return fail(400, "malformed request target");
  }
  bool http10 = false;
  if (version == "HTTP/1.0") {
    http10 = true;
  } else if (version != "HTTP/1.1") {
    if (version.size() == 8 && version.compare(0, 5, "HTTP/") == 0 &&
        std::isdigit(static_cast<unsigned char>(version[5])) && version[6] == '.' &&
        std::isdigit(static_cast<unsigned char>(version[7]))) {
      return fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
    }
    return fail(400, "malformed HTTP version");
  }
  size_t q = request->target.find('?');
  request->path = request->target.substr(0, q);
  request->query = q == std::string::npos ? "" : request->target.substr(q + 1);

  // Header fields.
  while (true) {
    Reader::LineStatus st = reader.ReadLine(budget, &line);
    if (st == Reader::LineStatus::kEof) return fail(kPeerClosed, "");
    if (st == Reader::LineStatus::kTooLong) return fail(431, "header fields too large");
    budget -= std::min(budget, line.size() + 2);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete line folding");
    size_t colon = line.find(':');
    if (colon == std::string::npos) return fail(400, "header line without a colon");
    std::string_view name(line.data(), colon);
    if (!IsToken(name)) return fail(400, "malformed header name");
    std::string_view value = TrimOws(std::string_view(line).substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) {
          unsigned char u = static_cast<unsigned char>(c);
          return (u < 0x20 && u != '\t') || u == 0x7f;
        })) {
      return fail(400, "control character in a header value");
    }
    request->headers.Add(std::string(name), std::string(value));
  }

  // Host: exactly one for HTTP/1.1 (RFC 9112 section 3.2).
  int hosts = 0;
  for (const auto& item : request->headers.items) {
    if (EqualsIgnoreCase(item.first, "Host")) ++hosts;
  }
  if (hosts > 1 || (!http10 && hosts == 0)) return fail(400, "missing or repeated Host header");

  out.keep_alive = !http10 && !HasToken(request->headers, "Connection", "close");

  // Body framing.
  bool chunked = false;
  std::optional<uint64_t> content_length;
  for (const auto& [key, value] : request->headers.items) {
    if (EqualsIgnoreCase(key, "Transfer-Encoding")) {
      auto codings = SplitList(value);
      if (http10) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
      if (codings.size() != 1 || !EqualsIgnoreCase(codings[0], "chunked") || chunked) {
        return fail(501, "only the chunked transfer coding is supported");
      }
      chunked = true;
    } else if (EqualsIgnoreCase(key, "Content-Length")) {
      for (std::string_view item : SplitList(value)) {
        uint64_t n = 0;
        if (!ParseDecimal(item, &n)) return fail(400, "malformed Content-Length");
        if (content_length && *content_length != n) return fail(400, "conflicting Content-Length");
        content_length = n;
      }
      if (!content_length) return fail(400, "malformed Content-Length");
    }
  }
  if (chunked && content_length) return fail(400, "both Transfer-Encoding and Content-Length");
  if (content_length && *content_length > options.max_body_bytes) {
    return fail(413, "body larger than " + std::to_string(options.max_body_bytes) + " bytes");
  }
  bool has_body = chunked || (content_length && *content_length > 0);
  if (has_body && !http10 && HasToken(request->headers, "Expect", "100-continue")) {
    if (!SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return fail(kPeerClosed, "");
  }

  if (content_length) {
    if (!reader.ReadExact(static_cast<size_t>(*content_length), &request->body)) {
      return fail(kPeerClosed, "");
    }
  } else if (chunked) {
    while (true) {
      Reader::LineStatus st = reader.ReadLine(kMaxChunkLineBytes, &line);
      if (st == Reader::LineStatus::kEof) return fail(kPeerClosed, "");
      if (st == Reader::LineStatus::kTooLong) return fail(400, "chunk size line too long");
      std::string_view size_text = TrimOws(std::string_view(line).substr(0, line.find(';')));
      uint64_t size = 0;
      if (size_text.empty() || size_text.size() > 15) return fail(400, "malformed chunk size");
      auto [ptr, ec] =
          std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
      if (ec != std::errc() || ptr != size_text.data() + size_text.size()) {
        return fail(400, "malformed chunk size");
      }
      if (size == 0) break;
      if (request->body.size() + size > options.max_body_bytes) {
        return fail(413, "body larger than " + std::to_string(options.max_body_bytes) + " bytes");
      }
      if (!reader.ReadExact(static_cast<size_t>(size), &request->body)) {
        return fail(kPeerClosed, "");
      }
      std::string crlf;
      if (!reader.ReadExact(2, &crlf)) return fail(kPeerClosed, "");
      if (crlf != "\r\n") return fail(400, "chunk data not followed by CRLF");
    }
    // Trailer fields are read and dropped.
    size_t trailer_budget = kMaxHeaderBytes;
    while (true) {
      Reader::LineStatus st = reader.ReadLine(trailer_budget, &line);
      if (st == Reader::LineStatus::kEof) return fail(kPeerClosed, "");
      if (st == Reader::LineStatus::kTooLong) return fail(431, "trailer fields too large");
      trailer_budget -= std::min(trailer_budget, line.size() + 2);
      if (line.empty()) break;
    }
  }
  reader.Compact();
  return out;
}

void Server::Impl::Hang(int fd) {
  // Answer nothing; wake when the peer closes, the server stops (Stop() shuts the socket down,
  // which ends the poll) or max_hang has passed.
  Clock& clock = SystemClock::Instance();
  const SteadyTime deadline = clock.SteadyNow() + options.max_hang;
  while (!stopping.load()) {
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.SteadyNow());
    if (remaining.count() <= 0) return;
    pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(remaining.count(), 1 << 30)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (r == 0) continue;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) return;
    char tmp[kReadBytes];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);  // more bytes from the client are dropped
    if (n <= 0) return;
  }
}

void Server::Impl::Serve(uint64_t id, int fd) {
  bool reset = false;
  Reader reader(fd, options.idle_timeout, options.request_timeout);
  const std::string peer = PeerOf(fd);
  while (!stopping.load()) {
    ServerRequest request;
    SetWaiting(id, true);
    reader.Arm();
    ReadOutcome read = ReadRequest(fd, reader, &request);
    SetWaiting(id, false);
    if (read.status == kPeerClosed) {
      // A request that began but did not arrive in time is answered 408; an idle one just ends.
      if (reader.timed_out() && reader.started()) {
        SendError(fd, 408,
                  "the request did not arrive within " +
                      std::to_string(options.request_timeout.count()) + " ms");
      }
      break;
    }
    if (read.status != kRequestOk) {
      SendError(fd, read.status, read.reason);
      break;
    }
    request.peer = peer;
    ServerResponse response;
    try {
      response = handler(request);
    } catch (...) {
      response = ServerResponse{};
      response.status = 500;
      response.body = "internal server error\n";
      response.headers.Set("Content-Type", "text/plain");
    }
    if (response.disposition == ServerResponse::Disposition::kReset) {
      reset = true;
      break;
    }
    if (response.disposition == ServerResponse::Disposition::kHang) {
      Hang(fd);
      break;
    }
    int status = response.status;
    if (status < 200 || status > 999) status = 500;  // 1xx cannot be a final answer
    bool keep_alive = read.keep_alive && !stopping.load();
    bool no_body = status == 204 || status == 304;
    std::string out =
        "HTTP/1.1 " + std::to_string(status) + " " + std::string(ReasonPhrase(status)) + "\r\n";
    for (const auto& [name, value] : response.headers.items) {
      if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection") ||
          EqualsIgnoreCase(name, "Transfer-Encoding") || !IsToken(name) ||
          value.find_first_of("\r\n") != std::string::npos) {
        continue;  // framing is ours; a CR or LF would split the response
      }
      out += name + ": " + value + "\r\n";
    }
    if (!no_body) out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (!no_body && request.method != "HEAD") out += response.body;
    if (!SendAll(fd, out) || !keep_alive) break;
  }
  Finish(id, reset);
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (impl_->started) return MakeError(ErrorCode::kFailedPrecondition, "server already started");
  REBOOTD_ASSIGN_OR_RETURN(sockaddr_in addr, ParseListen(impl_->options.listen));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable, std::string("socket: ") + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    ::close(fd);
    return MakeError(ErrorCode::kUnavailable,
                     "cannot listen on " + impl_->options.listen + ": " + std::strerror(err));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &bound.sin_addr, ip, sizeof(ip));
  impl_->host = ip;
  if (impl_->host == "0.0.0.0") impl_->host = "127.0.0.1";
  impl_->port = ntohs(bound.sin_port);
  impl_->listen_fd = fd;
  try {
    impl_->accept_thread = std::thread([impl = impl_.get()] { impl->AcceptLoop(); });
  } catch (const std::system_error& e) {
    ::close(fd);
    impl_->listen_fd = -1;
    return MakeError(ErrorCode::kUnavailable, std::string("cannot start a thread: ") + e.what());
  }
  impl_->started = true;
  return OkStatus();
}

void Server::Stop() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping = true;
  ::shutdown(impl_->listen_fd, SHUT_RDWR);  // wakes accept()
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> mu_lock(impl_->mu);
    for (auto& [id, connection] : impl_->connections) {
      // Wakes blocked reads and hanging connections; the threads close their own sockets.
      if (connection->fd >= 0) ::shutdown(connection->fd, SHUT_RDWR);
      threads.push_back(std::move(connection->thread));
    }
  }
  for (auto& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  {
    std::lock_guard<std::mutex> mu_lock(impl_->mu);
    impl_->connections.clear();
    impl_->finished.clear();
  }
  ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
}

std::vector<int> Server::ParseStream(std::string_view bytes, size_t max_body_bytes) {
  std::vector<int> outcomes;
  bytes = bytes.substr(0, kParseStreamMaxBytes);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return outcomes;
  // Everything is written before reading: the socket buffer must hold it all.
  int size = static_cast<int>(2 * kParseStreamMaxBytes);
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  bool written = SendAll(fds[1], bytes);
  ::shutdown(fds[1], SHUT_WR);
  if (written) {
    ServerOptions options;
    options.max_body_bytes = max_body_bytes;
    options.idle_timeout = std::chrono::milliseconds(1000);
    options.request_timeout = std::chrono::milliseconds(1000);
    Impl impl(options, Handler());
    Reader reader(fds[0], options.idle_timeout, options.request_timeout);
    while (true) {
      reader.Arm();
      ServerRequest request;
      ReadOutcome read = impl.ReadRequest(fds[0], reader, &request);
      if (read.status == kPeerClosed) break;
      outcomes.push_back(read.status);
      if (read.status != kRequestOk || !read.keep_alive) break;
    }
  }
  ::close(fds[0]);
  ::close(fds[1]);
  return outcomes;
}

int Server::Port() const { return impl_->port.load(); }

std::string Server::BaseUrl() const {
  return "http://" + impl_->host + ":" + std::to_string(impl_->port.load());
}

}  // namespace rebootd::http
