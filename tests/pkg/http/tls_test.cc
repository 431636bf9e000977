// SPDX-License-Identifier: Apache-2.0
// CpprestTransport over real TLS: a throwaway CA and a server certificate for 127.0.0.1 made with
// the openssl command line, served by `openssl s_server -www` on loopback. Verification is on by
// default: the server is trusted only through the CA bundle (file or in-memory PEM), and an
// unknown issuer is a clear, non-ambiguous failure before any request is sent.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "pkg/http/cpprest_transport.h"
#include "tests/support/support.h"

namespace rebootd::http {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("tls-test");
    // A CA, and a server certificate for IP 127.0.0.1 signed by it.
    const std::string script =
        "set -e; cd '" + dir_ +
        "'; "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj '/CN=rebootd test CA' >log 2>&1; "
        "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' "
        ">>log 2>&1; "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf; "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem "
        "-days 2 -extfile ext.cnf >>log 2>&1; "
        // A second, unrelated CA: trusting it must not make the server trusted.
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 "
        "-subj '/CN=someone else' >>log 2>&1";
    ASSERT_EQ(std::system(("bash -c \"" + Escape(script) + "\"").c_str()), 0)
        << "openssl failed (is the openssl command installed? scripts/setup.sh installs it): "
        << ReadFile(dir_ + "/log");

    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      const std::string out = dir_ + "/server.out";
      FILE* f = std::freopen(out.c_str(), "w", stdout);
      if (f == nullptr) _exit(126);
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      const std::string cert = dir_ + "/srv.pem", key = dir_ + "/srv.key";
      ::execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert.c_str(),
               "-key", key.c_str(), "-www", static_cast<char*>(nullptr));
      _exit(127);
    }
    // s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      std::string out = ReadFile(dir_ + "/server.out");
      size_t pos = out.find("ACCEPT 127.0.0.1:");
      if (pos != std::string::npos) {
        port_ = std::atoi(out.c_str() + pos + 17);
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_GT(port_, 0) << "openssl s_server did not start: " << ReadFile(dir_ + "/server.out");
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  static std::string Escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\' || c == '$' || c == '`') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }

  Request Get() const {
    Request r;
    r.method = "GET";
    r.url = "https://127.0.0.1:" + std::to_string(port_) + "/";
    r.timeout = 5000ms;
    r.idempotent = true;
    return r;
  }

  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(TlsTest, TrustsTheServerThroughACaBundleFile) {
  CpprestTransportOptions options;
  options.ca_bundle_file = dir_ + "/ca.pem";
  CpprestTransport transport(options);
  auto response = transport.Send(Get());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  // s_server -www answers with a page describing the session: it really was TLS.
  EXPECT_NE(response->body.find("s_server"), std::string::npos) << response->body.substr(0, 200);
}

TEST_F(TlsTest, TrustsTheServerThroughAnInMemoryPem) {
  CpprestTransportOptions options;
  options.ca_bundle_pem = ReadFile(dir_ + "/ca.pem");
  CpprestTransport transport(options);
  auto response = transport.Send(Get());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
}

TEST_F(TlsTest, UnknownIssuerIsRefusedAndNotAmbiguous) {
  for (const char* bundle : {"", "other.pem"}) {
    SCOPED_TRACE(std::string("bundle: ") + (*bundle ? bundle : "system store only"));
    CpprestTransportOptions options;
    if (*bundle) options.ca_bundle_file = dir_ + "/" + bundle;
    CpprestTransport transport(options);
    auto response = transport.Send(Get());
    ASSERT_FALSE(response) << "an untrusted certificate was accepted";
    // The handshake failed: nothing was sent, so even a reboot could be retried safely.
    EXPECT_FALSE(response.error().ambiguous) << response.error().ToString();
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable) << response.error().ToString();
  }
}

TEST_F(TlsTest, VerificationCanOnlyBeSwitchedOffExplicitly) {
  CpprestTransportOptions options;
  options.verify_certificates = false;
  CpprestTransport transport(options);
  auto response = transport.Send(Get());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
}

}  // namespace
}  // namespace rebootd::http
