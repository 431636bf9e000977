// SPDX-License-Identifier: Apache-2.0
// Transport::Stream: the default (split a whole body) and CpprestTransport's, which must hand
// lines over AS THEY ARRIVE on a chunked body (Kubernetes watches), and end on a stop request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "pkg/http/cpprest_transport.h"
#include "pkg/http/transport.h"

namespace rebootd::http {
namespace {

using namespace std::chrono_literals;

TEST(FeedLinesTest, SplitsOnNewlinesAndKeepsTheRest) {
  std::string pending;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  EXPECT_TRUE(FeedLines("a\r\nb", pending, collect));
  EXPECT_EQ(pending, "b");
  EXPECT_TRUE(FeedLines("c\n\nd\n", pending, collect));
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "bc", "", "d"}));
  EXPECT_TRUE(pending.empty());
  EXPECT_FALSE(FeedLines("x\ny\n", pending, [](std::string_view) { return false; }));
}

TEST(DefaultStreamTest, SplitsAWholeBodyAndPassesErrorsThrough) {
  FunctionTransport t([](const Request&) -> Result<Response> {
    Response r;
    r.status = 200;
    r.body = "one\ntwo";
    return r;
  });
  std::vector<std::string> lines;
  auto r = t.Stream(Request{}, [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  });
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
}

// A one-shot loopback server that answers with a chunked body, one chunk per line, waiting for
// `next` before each further chunk.
class ChunkedServer {
 public:
  explicit ChunkedServer(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 1);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ChunkedServer() {
    stop_ = true;
    while (released_ < gates_.size()) gates_[released_++].set_value();
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  void Next() { gates_[released_++].set_value(); }

 private:
  void Serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);  // the request (small; not parsed)
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    (void)::send(c, head.data(), head.size(), MSG_NOSIGNAL);
    for (size_t i = 0; i < chunks_.size(); ++i) {
      if (i > 0) gate_futures_[i - 1].wait();
      if (stop_) break;
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", chunks_[i].size());
      std::string out = size + chunks_[i] + "\r\n";
      (void)::send(c, out.data(), out.size(), MSG_NOSIGNAL);
    }
    if (!stop_) (void)::send(c, "0\r\n\r\n", 5, MSG_NOSIGNAL);
    gate_futures_.back().wait();  // hold the connection until the test is done
    ::close(c);
  }

  std::vector<std::string> chunks_;
  std::vector<std::promise<void>> gates_ = std::vector<std::promise<void>>(8);
  std::vector<std::shared_future<void>> gate_futures_ = [this] {
    std::vector<std::shared_future<void>> f;
    for (auto& p : gates_) f.push_back(p.get_future().share());
    return f;
  }();
  size_t released_ = 0;
  std::atomic<bool> stop_{false};
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(CpprestStreamTest, LinesArriveBeforeTheBodyEnds) {
  ChunkedServer server({"{\"n\":1}\n", "{\"n\":2}\n{\"n\"", ":3}\n"});
  CpprestTransport t;
  Request req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/watch";
  req.timeout = 10s;
  std::vector<std::string> lines;
  auto r = t.Stream(req, [&](std::string_view l) {
    lines.emplace_back(l);
    // The server sends the next chunk only once this line was seen: a transport that waited
    // for the whole body would deadlock here (and time out).
    server.Next();
    return true;
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "{\"n\":3}"}));
}

TEST(CpprestStreamTest, StopEndsABlockedStream) {
  ChunkedServer server({"{\"n\":1}\n", "never\n"});
  CpprestTransport t;
  Request req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/watch";
  req.timeout = 30s;
  std::stop_source stop;
  std::atomic<int> seen{0};
  auto fut = std::async(std::launch::async, [&] {
    return t.Stream(
        req,
        [&](std::string_view) {
          ++seen;
          return true;
        },
        stop.get_token());
  });
  for (int i = 0; i < 5000 && seen == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(seen, 1);
  auto started = std::chrono::steady_clock::now();
  stop.request_stop();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready);
  auto r = fut.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

}  // namespace
}  // namespace rebootd::http
