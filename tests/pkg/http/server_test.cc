// SPDX-License-Identifier: Apache-2.0
// Server over raw loopback sockets: parsing, framing, keep-alive, dispositions, limits, Stop().
#include "pkg/http/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace rebootd::http {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

// A connected loopback socket with a receive timeout, so a broken server fails the test
// instead of hanging it.
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

void SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    off += static_cast<size_t>(n);
  }
}

// Reads until the peer closes (or the 5 s receive timeout). `error` gets errno on failure.
std::string ReadAll(int fd, int* error = nullptr) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && error != nullptr) *error = errno;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Sends `data`, half-closes, and returns everything the server answers.
std::string Exchange(int port, const std::string& data) {
  int fd = Connect(port);
  EXPECT_GE(fd, 0);
  if (fd < 0) return "";
  SendAll(fd, data);
  ::shutdown(fd, SHUT_WR);
  std::string out = ReadAll(fd);
  ::close(fd);
  return out;
}

int CountOpenFds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

// Records every request and answers with `respond` (200 "ok" by default).
class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(std::move(options), [this](const ServerRequest& request) {
      std::function<ServerResponse(const ServerRequest&)> respond;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
        respond = respond_;
      }
      if (respond) return respond(request);
      ServerResponse response;
      response.body = "ok";
      return response;
    });
    ASSERT_TRUE(server_->Start());
  }
  std::vector<ServerRequest> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void Respond(std::function<ServerResponse(const ServerRequest&)> respond) {
    std::lock_guard<std::mutex> lock(mu_);
    respond_ = std::move(respond);
  }

  std::unique_ptr<Server> server_;
  std::mutex mu_;
  std::vector<ServerRequest> requests_;                          // guarded by mu_
  std::function<ServerResponse(const ServerRequest&)> respond_;  // guarded by mu_
};

TEST_F(ServerTest, PicksFreePortAndReportsBaseUrl) {
  StartServer();
  EXPECT_GT(server_->Port(), 0);
  EXPECT_EQ(server_->BaseUrl(), "http://127.0.0.1:" + std::to_string(server_->Port()));
}

TEST(ServerStartTest, RejectsBadListenAddresses) {
  for (const char* listen :
       {"nonsense", ":8080", "127.0.0.1:99999", "127.0.0.1:x", "example.com:80", "[::1]:0", ""}) {
    Server server(ServerOptions{.listen = listen},
                  [](const ServerRequest&) { return ServerResponse{}; });
    auto status = server.Start();
    ASSERT_FALSE(status) << listen;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << listen;
  }
}

TEST(ServerStartTest, LocalhostMeansLoopback) {
  Server server(ServerOptions{.listen = "localhost:0"},
                [](const ServerRequest&) { return ServerResponse{}; });
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.BaseUrl().rfind("http://127.0.0.1:", 0), 0u);
}

TEST(ServerStartTest, PortInUseIsUnavailable) {
  Server first({}, [](const ServerRequest&) { return ServerResponse{}; });
  ASSERT_TRUE(first.Start());
  Server second(ServerOptions{.listen = "127.0.0.1:" + std::to_string(first.Port())},
                [](const ServerRequest&) { return ServerResponse{}; });
  auto status = second.Start();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
}

TEST_F(ServerTest, ParsesRequestLineHeadersAndBody) {
  StartServer();
  std::string answer = Exchange(server_->Port(),
                                "POST /a/b%20c?x=1&y=%2F HTTP/1.1\r\n"
                                "Host: ecm.tencentcloudapi.com\r\n"
                                "X-TC-Action:  RebootInstances \r\n"
                                "Content-Type: application/json\r\n"
                                "Content-Length: 7\r\n"
                                "\r\n"
                                "{\"a\":1}");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 1u);
  const ServerRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/a/b%20c?x=1&y=%2F");
  EXPECT_EQ(r.path, "/a/b%20c");
  EXPECT_EQ(r.query, "x=1&y=%2F");
  EXPECT_EQ(r.headers.GetOr("host"), "ecm.tencentcloudapi.com");
  EXPECT_EQ(r.headers.GetOr("x-tc-action"), "RebootInstances");
  EXPECT_EQ(r.body, "{\"a\":1}");
  EXPECT_EQ(r.peer.rfind("127.0.0.1:", 0), 0u);
}

TEST_F(ServerTest, ReadsChunkedBodies) {
  StartServer();
  std::string answer = Exchange(server_->Port(),
                                "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n"
                                "6;name=value\r\n worl\x00\r\n"
                                "A\r\n0123456789\r\n"
                                "0\r\nX-Trailer: t\r\n\r\n"s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body,
            "hello worl\x00"
            "0123456789"s);
}

TEST_F(ServerTest, AnswersMalformedRequestsWith400WithoutCallingTheHandler) {
  StartServer();
  const std::string bad[] = {
      "GARBAGE\r\n\r\n",
      "GET /\r\n\r\n",
      "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
      "GET noslash HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET / HTTX/1.1\r\nHost: x\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",  // no Host
      "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n",
  };
  for (const std::string& request : bad) {
    std::string answer = Exchange(server_->Port(), request);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << request << "\n" << answer;
    EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos);
  }
  EXPECT_TRUE(Requests().empty());
  // Unknown transfer codings and versions get their own codes.
  EXPECT_EQ(
      Exchange(server_->Port(), "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
          .rfind("HTTP/1.1 501 ", 0),
      0u);
  EXPECT_EQ(
      Exchange(server_->Port(), "GET / HTTP/2.0\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 505 ", 0), 0u);
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ServerTest, RejectsBodiesOverTheLimitWith413) {
  StartServer(ServerOptions{.max_body_bytes = 10});
  EXPECT_EQ(Exchange(server_->Port(),
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890")
                .rfind("HTTP/1.1 413 ", 0),
            0u);
  EXPECT_EQ(Exchange(server_->Port(),
                     "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n")
                .rfind("HTTP/1.1 413 ", 0),
            0u);
  EXPECT_EQ(Exchange(server_->Port(),
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
                .rfind("HTTP/1.1 200 ", 0),
            0u);
  EXPECT_EQ(Requests().size(), 1u);
}

TEST_F(ServerTest, KeepsConnectionsAliveAndAnswersPipelinedRequestsInOrder) {
  StartServer();
  Respond([](const ServerRequest& r) {
    ServerResponse response;
    response.body = r.path;
    return response;
  });
  std::string answer = Exchange(server_->Port(),
                                "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                "GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer,
            "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n/one"
            "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n/two"
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n/three");
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].peer, requests[2].peer);
}

TEST_F(ServerTest, Http10ClosesAfterOneResponse) {
  StartServer();
  std::string answer = Exchange(server_->Port(), "GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
  EXPECT_EQ(answer, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

TEST_F(ServerTest, WritesStatusReasonHandlerHeadersAndFraming) {
  StartServer();
  Respond([](const ServerRequest&) {
    ServerResponse response;
    response.status = 404;
    response.headers.Set("Content-Type", "application/json");
    response.headers.Set("Content-Length", "999");  // framing is the server's
    response.headers.Set("X-Evil", "a\r\nInjected: yes");
    response.body = "{}";
    return response;
  });
  std::string answer =
      Exchange(server_->Port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer,
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\n{}");
}

TEST_F(ServerTest, HeadAnswersWithoutBodyAnd204HasNoLength) {
  StartServer();
  std::string answer = Exchange(server_->Port(), "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
  Respond([](const ServerRequest&) {
    ServerResponse response;
    response.status = 204;
    response.body = "dropped";
    return response;
  });
  answer = Exchange(server_->Port(), "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer, "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
}

TEST_F(ServerTest, AnswersExpectContinue) {
  StartServer();
  int fd = Connect(server_->Port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  char buf[64];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  SendAll(fd, "abc");
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(ReadAll(fd).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  ::close(fd);
  ASSERT_EQ(Requests().size(), 1u);
  EXPECT_EQ(Requests()[0].body, "abc");
}

TEST_F(ServerTest, HandlerExceptionsBecome500) {
  StartServer();
  Respond([](const ServerRequest&) -> ServerResponse { throw std::runtime_error("boom"); });
  std::string answer = Exchange(server_->Port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << answer;
  EXPECT_EQ(answer.find("boom"), std::string::npos);
}

TEST_F(ServerTest, ResetSendsRst) {
  StartServer();
  Respond([](const ServerRequest&) {
    ServerResponse response;
    response.disposition = ServerResponse::Disposition::kReset;
    return response;
  });
  int fd = Connect(server_->Port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  int error = 0;
  std::string answer = ReadAll(fd, &error);
  ::close(fd);
  EXPECT_EQ(answer, "");
  EXPECT_EQ(error, ECONNRESET);
}

TEST_F(ServerTest, HangClosesWithoutAnswerAfterMaxHang) {
  StartServer(ServerOptions{.max_hang = 200ms});
  Respond([](const ServerRequest&) {
    ServerResponse response;
    response.disposition = ServerResponse::Disposition::kHang;
    return response;
  });
  int fd = Connect(server_->Port());
  ASSERT_GE(fd, 0);
  auto start = std::chrono::steady_clock::now();
  SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string answer = ReadAll(fd);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(answer, "");
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(ServerTest, StopIsPromptWhileConnectionsHangOrIdle) {
  StartServer(ServerOptions{.max_hang = 60s});
  Respond([](const ServerRequest&) {
    ServerResponse response;
    response.disposition = ServerResponse::Disposition::kHang;
    return response;
  });
  int hanging = Connect(server_->Port());
  int idle = Connect(server_->Port());
  ASSERT_GE(hanging, 0);
  ASSERT_GE(idle, 0);
  SendAll(hanging, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  while (Requests().empty()) std::this_thread::sleep_for(5ms);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(ReadAll(hanging), "");
  EXPECT_EQ(ReadAll(idle), "");
  ::close(hanging);
  ::close(idle);
  server_->Stop();  // idempotent
  EXPECT_LT(Connect(server_->Port()), 0);
}

TEST_F(ServerTest, AtTheLimitTheLongestIdleConnectionMakesRoom) {
  StartServer(ServerOptions{.max_connections = 2});
  int a = Connect(server_->Port());
  int b = Connect(server_->Port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  // Both are served (and so registered) before the third connects; `a` has waited longest.
  for (int fd : {a, b}) {
    SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    char buf[256];
    ASSERT_GT(::recv(fd, buf, sizeof(buf), 0), 0);
    std::this_thread::sleep_for(5ms);
  }
  std::string answer = Exchange(server_->Port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_EQ(ReadAll(a), "");  // closed to make room
  // `b` was not: it still answers.
  SendAll(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  char buf[256];
  EXPECT_GT(::recv(b, buf, sizeof(buf), 0), 0);
  ::close(a);
  ::close(b);
}

TEST_F(ServerTest, RefusesANewConnectionOnlyWhenEveryConnectionIsBusy) {
  StartServer(ServerOptions{.max_hang = 60s, .max_connections = 2});
  Respond([](const ServerRequest&) {
    ServerResponse response;
    response.disposition = ServerResponse::Disposition::kHang;
    return response;
  });
  int a = Connect(server_->Port());
  int b = Connect(server_->Port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  SendAll(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  SendAll(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  while (Requests().size() < 2) std::this_thread::sleep_for(5ms);
  int c = Connect(server_->Port());
  ASSERT_GE(c, 0);
  int error = 0;
  EXPECT_EQ(ReadAll(c, &error), "");  // closed without a word (EOF, not the 5 s timeout)
  EXPECT_NE(error, EAGAIN);
  ::close(c);
  server_->Stop();
  ::close(a);
  ::close(b);
}

TEST_F(ServerTest, ClosesIdleConnectionsAfterTheIdleTimeout) {
  StartServer(ServerOptions{.idle_timeout = 200ms});
  int fd = Connect(server_->Port());
  ASSERT_GE(fd, 0);
  // Idle after an answer too, not only before the first request.
  SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto start = std::chrono::steady_clock::now();
  int error = 0;
  std::string answer = ReadAll(fd, &error);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(error, 0);  // EOF from the server, not the client's 5 s receive timeout
  EXPECT_GE(elapsed, 150ms);
  ::close(fd);
}

TEST_F(ServerTest, ASlowRequestGets408AtTheRequestTimeout) {
  StartServer(ServerOptions{.idle_timeout = 10s, .request_timeout = 300ms});
  int fd = Connect(server_->Port());
  ASSERT_GE(fd, 0);
  // Slow loris: a header line every 50 ms, never the blank line that ends the headers.
  auto start = std::chrono::steady_clock::now();
  SendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n");
  std::string answer;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(50ms);
    std::string line = "X-Trickle-" + std::to_string(i) + ": y\r\n";
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) <= 0) break;
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      answer.append(buf, static_cast<size_t>(n));
      break;
    }
    if (n == 0) break;
  }
  answer += ReadAll(fd);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(answer.rfind("HTTP/1.1 408 ", 0), 0u) << answer;
  EXPECT_LT(elapsed, 3s);
  EXPECT_TRUE(Requests().empty());
  ::close(fd);
}

TEST_F(ServerTest, ManyShortConnectionsLeakNoDescriptors) {
  StartServer();
  // Warm up (lazily opened descriptors), then count.
  Exchange(server_->Port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  int before = CountOpenFds();
  for (int i = 0; i < 300; ++i) {
    std::string answer =
        Exchange(server_->Port(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << i;
  }
  // Each connection closes its socket before the client sees EOF, so nothing is pending.
  EXPECT_LE(CountOpenFds(), before);
  EXPECT_EQ(Requests().size(), 301u);
  server_->Stop();
}

// The parser the fuzz target drives (tests/fuzz/http_request_fuzz.cc) is Serve()'s own.
TEST(ServerParseStreamTest, ReadsPipelinedRequestsAndStopsAtTheFirstError) {
  using V = std::vector<int>;
  EXPECT_EQ(Server::ParseStream("GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                                "GET /b HTTP/1.1\r\nHost: a\r\n\r\n",
                                100),
            (V{0, 0}));
  EXPECT_EQ(Server::ParseStream("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                                "GET /b HTTP/1.1\r\nHost: a\r\n\r\n",
                                100),
            (V{0}));
  EXPECT_EQ(Server::ParseStream("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 100), (V{505}));
  EXPECT_EQ(Server::ParseStream("GET / HTTP/1.1\r\n\r\n", 100), (V{400}));  // no Host
  EXPECT_EQ(Server::ParseStream("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", 100),
            (V{413}));
  EXPECT_EQ(Server::ParseStream("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                100),
            (V{0, 0}));
  // A request cut off by the end of the stream is a closed peer, not an outcome.
  EXPECT_EQ(Server::ParseStream("GET / HTTP/1.1\r\nHost:", 100), V{});
  EXPECT_EQ(Server::ParseStream("", 100), V{});
}

}  // namespace
}  // namespace rebootd::http
