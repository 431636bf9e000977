// SPDX-License-Identifier: Apache-2.0
#include "pkg/http/cpprest_transport.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <cpprest/http_client.h>
#include <pplx/pplxtasks.h>
#include <boost/asio/ssl.hpp>

#include "pkg/http/url.h"

namespace rebootd::http {
namespace {

namespace whttp = web::http;
using whttp::client::http_client;
using whttp::client::http_client_config;

constexpr size_t kMaxPooledClients = 64;

// What a request looks like on the wire, plus a log-safe name for messages.
struct Target {
  Url url;
  std::string base_uri;   // scheme://host:port, what the http_client is built on
  std::string resource;   // path and query as sent ("/" when empty); no fragment
  std::string safe_name;  // "METHOD scheme://host:port/path": no query (it may carry signatures)
};

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

bool IsValidHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The URL up to its query, for messages about URLs that did not parse.
std::string WithoutQuery(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

Result<Target> ParseTarget(const std::string& method, const std::string& url_text) {
  auto url = ParseUrl(url_text);
  if (!url) {
    return MakeError(ErrorCode::kInvalidArgument,
                     method + " " + WithoutQuery(url_text) + ": invalid URL");
  }
  Target target;
  target.url = std::move(*url);
  // The resource is taken from the text itself so that the query is sent byte for byte, exactly
  // as the signer produced it.
  std::string_view rest = url_text;
  size_t scheme_end = rest.find("://");
  rest = scheme_end == std::string_view::npos ? std::string_view() : rest.substr(scheme_end + 3);
  size_t resource_start = rest.find_first_of("/?#");
  rest =
      resource_start == std::string_view::npos ? std::string_view() : rest.substr(resource_start);
  rest = rest.substr(0, rest.find('#'));
  target.resource = std::string(rest);
  if (target.resource.empty() || target.resource.front() == '?') {
    target.resource.insert(0, "/");
  }
  std::string host = target.url.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  target.base_uri = target.url.scheme + "://" + host + ":" + std::to_string(target.url.port);
  target.safe_name =
      method + " " + target.base_uri + target.resource.substr(0, target.resource.find('?'));
  return target;
}

bool DefaultIdempotent(std::string_view method) {
  static constexpr std::array<std::string_view, 6> kIdempotent = {"GET",    "HEAD",    "PUT",
                                                                  "DELETE", "OPTIONS", "TRACE"};
  return std::find(kIdempotent.begin(), kIdempotent.end(), method) != kIdempotent.end();
}

// cpprestsdk reports every failure as an http_exception whose what() names the step that failed
// (fixed strings in http_client_asio.cpp) and whose error code is the OS/asio error, rewritten to
// ETIMEDOUT when its per-step timer fired. The step tells whether the request can have reached
// the server; anything not recognised is treated as possibly sent.
enum class Step { kBeforeSending, kAfterSending };

Step StepOf(std::string_view what) {
  static constexpr std::array<std::string_view, 5> kBeforeSending = {
      "Error resolving address",
      "Failed to resolve address",
      "Failed to connect to any resolved endpoint",
      "Request canceled by user",  // the socket was closed (by the timer) while connecting
      "Error in SSL handshake",
  };
  for (std::string_view prefix : kBeforeSending) {
    if (StartsWith(what, prefix)) return Step::kBeforeSending;
  }
  return Step::kAfterSending;
}

Error MakeTransportError(ErrorCode code, std::string message, bool ambiguous) {
  return Error::Of(code, std::move(message)).Ambiguous(ambiguous);
}

Error ConvertHttpException(const Target& target, const whttp::http_exception& e) {
  const std::string what = e.what();
  const bool timed_out = e.error_code().value() == ETIMEDOUT;
  if (StepOf(what) == Step::kBeforeSending) {
    std::string reason;
    if (timed_out) {
      reason = StartsWith(what, "Error in SSL handshake") ? "TLS handshake timed out"
                                                          : "connect timed out";
    } else if (StartsWith(what, "Error resolving") || StartsWith(what, "Failed to resolve")) {
      reason = "could not resolve host";
    } else if (StartsWith(what, "Error in SSL handshake")) {
      reason = "TLS handshake failed";
    } else {
      reason = "could not connect";
    }
    return MakeTransportError(ErrorCode::kUnavailable,
                              target.safe_name + ": " + reason + " (" + what + "); not sent",
                              /*ambiguous=*/false);
  }
  if (timed_out) {
    return MakeTransportError(
        ErrorCode::kDeadlineExceeded,
        target.safe_name + ": timed out after the request was sent (" + what + ")",
        /*ambiguous=*/true);
  }
  return MakeTransportError(
      ErrorCode::kUnavailable,
      target.safe_name + ": connection failed after the request was sent (" + what + ")",
      /*ambiguous=*/true);
}

// Checks that the configured PEM files load, so that a bad path is reported as a configuration
// error instead of as a TLS handshake failure on every call.
std::optional<Error> CheckTlsFiles(const CpprestTransportOptions& options) {
  boost::asio::ssl::context context(boost::asio::ssl::context::sslv23);
  boost::system::error_code ec;
  if (!options.ca_bundle_file.empty()) {
    context.load_verify_file(options.ca_bundle_file, ec);
    if (ec) {
      return MakeTransportError(
          ErrorCode::kInvalidArgument,
          "ca_bundle_file " + options.ca_bundle_file + " could not be loaded: " + ec.message(),
          false);
    }
  }
  if (options.client_cert_file.empty() != options.client_key_file.empty()) {
    return MakeTransportError(ErrorCode::kInvalidArgument,
                              "client_cert_file and client_key_file must be set together", false);
  }
  if (!options.ca_bundle_pem.empty()) {
    context.add_certificate_authority(boost::asio::buffer(options.ca_bundle_pem), ec);
    if (ec) {
      return MakeTransportError(ErrorCode::kInvalidArgument,
                                "ca_bundle_pem could not be loaded: " + ec.message(), false);
    }
  }
  if (options.client_cert_pem.empty() != options.client_key_pem.empty()) {
    return MakeTransportError(ErrorCode::kInvalidArgument,
                              "client_cert_pem and client_key_pem must be set together", false);
  }
  if (!options.client_cert_pem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(options.client_cert_pem), ec);
    if (!ec) {
      context.use_private_key(boost::asio::buffer(options.client_key_pem),
                              boost::asio::ssl::context::pem, ec);
    }
    if (ec) {
      return MakeTransportError(ErrorCode::kInvalidArgument,
                                "client certificate/key data could not be loaded: " + ec.message(),
                                false);
    }
  }
  if (!options.client_cert_file.empty()) {
    context.use_certificate_chain_file(options.client_cert_file, ec);
    if (ec) {
      return MakeTransportError(
          ErrorCode::kInvalidArgument,
          "client_cert_file " + options.client_cert_file + " could not be loaded: " + ec.message(),
          false);
    }
    context.use_private_key_file(options.client_key_file, boost::asio::ssl::context::pem, ec);
    if (ec) {
      return MakeTransportError(
          ErrorCode::kInvalidArgument,
          "client_key_file " + options.client_key_file + " could not be loaded: " + ec.message(),
          false);
    }
  }
  return std::nullopt;
}

// A request checked and converted for cpprestsdk.
struct Prepared {
  Target target;
  whttp::http_request request;
  std::shared_ptr<http_client> client;
  std::chrono::milliseconds timeout{0};
};

// Shared between Send() and the pplx continuation, which may outlive Send() after a deadline.
struct CallState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;                 // guarded by mu
  std::optional<Response> response;  // guarded by mu
  std::exception_ptr error;          // guarded by mu
};

// Thrown inside the read chain when a body passes the limit; Send turns it into an error.
struct BodyTooLarge {
  size_t limit;
};

// Response bodies given up on (Abandon), until cpprestsdk drops them. Process-wide because the
// read chains that abandon them are free functions; a transport's destructor waits for them.
struct AbandonedBodies {
  std::mutex mu;
  std::vector<std::weak_ptr<void>> bodies;  // guarded by mu

  void Add(std::weak_ptr<void> body) {
    std::lock_guard lock(mu);
    std::erase_if(bodies, [](const auto& b) { return b.expired(); });
    bodies.push_back(std::move(body));
  }
  size_t Alive() {
    std::lock_guard lock(mu);
    std::erase_if(bodies, [](const auto& b) { return b.expired(); });
    return bodies.size();
  }
};
AbandonedBodies& Abandoned() {
  static AbandonedBodies* abandoned = new AbandonedBodies;  // never destroyed: used at exit
  return *abandoned;
}

// Closes the reading side of a response body that will not be read to its end, so that
// cpprestsdk drops the blocks that had arrived (without it they stay held after the connection
// is cancelled: about 0.6 MiB per refusal). cpprestsdk frees them a little later, on its own
// threads (about 100 ms here); the body is remembered until then, so that ~CpprestTransport can
// wait for it (a process that ended first would leave them allocated, and LeakSanitizer reports
// that). Does not wait for the close: it runs inside a task continuation, where blocking could
// starve cpprestsdk's pool.
void Abandon(concurrency::streams::streambuf<uint8_t> buffer) {
  Abandoned().Add(std::weak_ptr<void>(buffer.get_base()));
  try {
    buffer.close(std::ios_base::in);
  } catch (...) {
    // Already closed or failed: nothing is held then.
  }
}

// Reads the whole body into `out`, 64 KiB at a time, failing with BodyTooLarge as soon as it
// passes `limit` (cpprestsdk's content_ready() would buffer any amount first). Asynchronous: no
// thread blocks while the peer is slow.
pplx::task<void> ReadBounded(concurrency::streams::streambuf<uint8_t> buffer,
                             std::shared_ptr<std::string> out, size_t limit) {
  auto chunk = std::make_shared<std::vector<uint8_t>>(64 * 1024);
  return buffer.getn(chunk->data(), chunk->size())
      .then([buffer, out, limit, chunk](size_t n) -> pplx::task<void> {
        if (n == 0) return pplx::task_from_result();
        if (out->size() + n > limit) {
          Abandon(buffer);
          throw BodyTooLarge{limit};
        }
        out->append(reinterpret_cast<const char*>(chunk->data()), n);
        return ReadBounded(buffer, out, limit);
      });
}

std::string FormatBytes(size_t n) {
  if (n % (1024 * 1024) == 0) return std::to_string(n / (1024 * 1024)) + " MiB";
  if (n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

struct CpprestTransport::Impl {
  explicit Impl(CpprestTransportOptions opts)
      : options(std::move(opts)), tls_error(CheckTlsFiles(options)) {}

  http_client_config MakeConfig(std::chrono::milliseconds timeout) const {
    http_client_config config;
    config.set_timeout(timeout);
    config.set_validate_certificates(options.verify_certificates);
    // Redirects come back as responses: following them could carry credentials elsewhere.
    config.set_max_redirects(0);
    if (!options.ca_bundle_file.empty() || !options.client_cert_file.empty() ||
        !options.ca_bundle_pem.empty() || !options.client_cert_pem.empty()) {
      // Runs for every new TLS connection, after set_default_verify_paths(), so the bundle is
      // trusted in addition to the system store. The files were checked in the constructor; the
      // error_code overloads keep exceptions out of cpprestsdk's I/O threads.
      config.set_ssl_context_callback([o = options](boost::asio::ssl::context& context) {
        boost::system::error_code ec;
        if (!o.ca_bundle_file.empty()) context.load_verify_file(o.ca_bundle_file, ec);
        if (!o.ca_bundle_pem.empty()) {
          context.add_certificate_authority(boost::asio::buffer(o.ca_bundle_pem), ec);
        }
        if (!o.client_cert_file.empty()) {
          context.use_certificate_chain_file(o.client_cert_file, ec);
          context.use_private_key_file(o.client_key_file, boost::asio::ssl::context::pem, ec);
        }
        if (!o.client_cert_pem.empty()) {
          context.use_certificate_chain(boost::asio::buffer(o.client_cert_pem), ec);
          context.use_private_key(boost::asio::buffer(o.client_key_pem),
                                  boost::asio::ssl::context::pem, ec);
        }
      });
    }
    return config;
  }

  // A pooled client per (origin, timeout): cpprestsdk's timeout is per client, and its
  // connection pool lives in the client, so requests with the same origin and timeout share
  // connections.
  std::shared_ptr<http_client> PooledClient(const Target& target,
                                            std::chrono::milliseconds timeout) {
    std::string key = target.base_uri + "|" + std::to_string(timeout.count());
    std::lock_guard<std::mutex> lock(mu);
    auto it = clients.find(key);
    if (it != clients.end()) return it->second;
    // Callers passing ever-changing timeouts must not grow the cache without bound; dropping it
    // only closes idle pooled connections (calls in flight keep their client alive).
    if (clients.size() >= kMaxPooledClients) clients.clear();
    auto client = std::make_shared<http_client>(utility::conversions::to_string_t(target.base_uri),
                                                MakeConfig(timeout));
    clients.emplace(std::move(key), client);
    return client;
  }

  // Checks `request` and builds its cpprestsdk form and client (pooled unless it may not be
  // replayed or `own_connection` is set).
  Result<Prepared> Prepare(const Request& request, bool own_connection);

  // Constant after construction.
  const CpprestTransportOptions options;
  const std::optional<Error> tls_error;

  std::mutex mu;
  std::map<std::string, std::shared_ptr<http_client>> clients;  // guarded by mu
};

CpprestTransport::CpprestTransport(CpprestTransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  // cpprestsdk creates its global task scheduler lazily, under a spin lock of its own, on the
  // first task; the first calls come from several worker threads at once. Creating it here,
  // before any worker exists, orders that creation before every use (ThreadSanitizer reported
  // the lazy creation racing with the first calls).
  (void)pplx::get_ambient_scheduler();
}

CpprestTransport::~CpprestTransport() {
  // Bounded: a body cpprestsdk still holds after this is only reported, never waited on for long.
  for (int i = 0; i < 200 && Abandoned().Alive() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

size_t CpprestTransport::AbandonedBodiesHeld() { return Abandoned().Alive(); }

Result<Prepared> CpprestTransport::Impl::Prepare(const Request& request, bool own_connection) {
  if (!IsToken(request.method)) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid HTTP method");
  }
  REBOOTD_ASSIGN_OR_RETURN(Target target, ParseTarget(request.method, request.url));
  const Url& url = target.url;
  if (url.scheme != "http" && url.scheme != "https") {
    return MakeError(ErrorCode::kInvalidArgument,
                     target.safe_name + ": only http and https URLs are supported");
  }
  if (url.scheme == "http" && !options.allow_insecure_http && !IsLoopbackHost(url.host)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     target.safe_name +
                         ": plain http:// is only allowed to loopback hosts; use https:// (or set "
                         "allow_insecure_http)");
  }
  if (url.scheme == "https" && tls_error) return MakeError(*tls_error);
  for (const auto& [name, value] : request.headers.items) {
    if (!IsToken(name) || !IsValidHeaderValue(value)) {
      // Neither the name nor the value goes into the message: it may be a credential.
      return MakeError(ErrorCode::kInvalidArgument,
                       target.safe_name + ": a request header has an invalid name or value");
    }
  }

  const std::chrono::milliseconds timeout =
      request.timeout.count() > 0 ? request.timeout : options.read_timeout;
  const bool idempotent =
      !own_connection && request.idempotent.value_or(DefaultIdempotent(request.method));

  std::shared_ptr<http_client> client;
  whttp::http_request cpp_request;
  try {
    cpp_request = whttp::http_request(utility::conversions::to_string_t(request.method));
    cpp_request.set_request_uri(web::uri(utility::conversions::to_string_t(target.resource)));
    for (const auto& [name, value] : request.headers.items) {
      // Framing headers are cpprestsdk's: it always sends "Connection: Keep-Alive" and the
      // Content-Length of the body set below. A Host header given here replaces the URL's (and,
      // over https, also names the server for SNI and certificate checks).
      if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection") ||
          EqualsIgnoreCase(name, "Transfer-Encoding")) {
        continue;
      }
      cpp_request.headers().add(utility::conversions::to_string_t(name),
                                utility::conversions::to_string_t(value));
    }
    if (!request.body.empty()) {
      // set_body(std::string) keeps an existing Content-Type exactly (no charset appended) and
      // sends the bytes as they are; it only supplies a Content-Type when there is none, which
      // is removed again so that the request goes out exactly as given.
      const bool has_content_type = request.headers.Get("Content-Type") != nullptr;
      cpp_request.set_body(std::string(request.body), "application/octet-stream");
      if (!has_content_type) cpp_request.headers().remove(whttp::header_names::content_type);
    }
    if (idempotent) {
      client = PooledClient(target, timeout);
    } else {
      // A client of its own: its single connection is never reused, so cpprestsdk cannot
      // replay the request on a fresh connection after a reused one fails.
      client = std::make_shared<http_client>(utility::conversions::to_string_t(target.base_uri),
                                             MakeConfig(timeout));
    }
  } catch (const std::exception&) {
    // what() is left out: cpprestsdk's uri_exception quotes the whole target, query included.
    return MakeError(ErrorCode::kInvalidArgument,
                     target.safe_name + ": could not build the request (invalid path or query)");
  }
  Prepared prepared;
  prepared.target = std::move(target);
  prepared.request = std::move(cpp_request);
  prepared.client = std::move(client);
  prepared.timeout = timeout;
  return prepared;
}

Result<Response> CpprestTransport::Send(const Request& request) {
  REBOOTD_ASSIGN_OR_RETURN(Prepared prepared, impl_->Prepare(request, /*own_connection=*/false));
  const Target& target = prepared.target;
  const std::chrono::milliseconds timeout = prepared.timeout;
  std::shared_ptr<http_client> client = prepared.client;
  whttp::http_request cpp_request = prepared.request;

  auto state = std::make_shared<CallState>();
  auto head = std::make_shared<Response>();
  auto body = std::make_shared<std::string>();
  const size_t limit = impl_->options.max_body_bytes;
  pplx::cancellation_token_source cancel;
  try {
    client->request(cpp_request, cancel.get_token())
        .then([head, body, limit](whttp::http_response cpp_response) {
          head->status = cpp_response.status_code();
          for (const auto& [name, value] : cpp_response.headers()) {
            head->headers.Add(utility::conversions::to_utf8string(name),
                              utility::conversions::to_utf8string(value));
          }
          // A declared length over the limit fails before a byte of the body is read.
          if (cpp_response.headers().has(whttp::header_names::content_length) &&
              cpp_response.headers().content_length() > limit) {
            throw BodyTooLarge{limit};
          }
          return ReadBounded(cpp_response.body().streambuf(), body, limit);
        })
        .then([state, head, body](pplx::task<void> task) {
          std::optional<Response> response;
          std::exception_ptr error;
          try {
            task.get();
            head->body = std::move(*body);
            response = std::move(*head);
          } catch (...) {
            error = std::current_exception();
          }
          std::lock_guard<std::mutex> lock(state->mu);
          state->response = std::move(response);
          state->error = error;
          state->done = true;
          state->cv.notify_all();
        });
  } catch (const std::exception&) {
    return MakeError(MakeTransportError(ErrorCode::kUnavailable,
                                        target.safe_name + ": could not start the request",
                                        /*ambiguous=*/false));
  }

  // cpprestsdk's timeout is an inactivity timer restarted at every step (connect, write, each
  // read), so a server that trickles bytes could hold a call for much longer. This bounds the
  // whole call: connect_timeout for getting connected plus the request's timeout.
  const auto total = impl_->options.connect_timeout + timeout;
  std::unique_lock<std::mutex> lock(state->mu);
  if (!state->cv.wait_for(lock, total, [&] { return state->done; })) {
    lock.unlock();
    cancel.cancel();  // closes the connection; the continuation still completes `state`
    return MakeError(MakeTransportError(
        ErrorCode::kDeadlineExceeded,
        target.safe_name + ": no complete response within " + std::to_string(total.count()) + "ms",
        /*ambiguous=*/true));
  }
  if (state->response) return std::move(*state->response);
  try {
    std::rethrow_exception(state->error);
  } catch (const BodyTooLarge& e) {
    cancel.cancel();  // drop the connection rather than drain the rest
    Error error = MakeTransportError(ErrorCode::kUnavailable,
                                     target.safe_name + ": response body larger than " +
                                         FormatBytes(e.limit) + " (HTTP " +
                                         std::to_string(head->status) + "); refused",
                                     /*ambiguous=*/true);
    error.http_status = head->status;
    return MakeError(std::move(error));
  } catch (const whttp::http_exception& e) {
    return MakeError(ConvertHttpException(target, e));
  } catch (const pplx::task_canceled&) {
    return MakeError(MakeTransportError(ErrorCode::kCancelled, target.safe_name + ": cancelled",
                                        /*ambiguous=*/true));
  } catch (...) {
    return MakeError(MakeTransportError(ErrorCode::kUnavailable,
                                        target.safe_name + ": request failed", /*ambiguous=*/true));
  }
}

Result<Response> CpprestTransport::Stream(const Request& request, const LineHandler& on_line,
                                          std::stop_token stop) {
  REBOOTD_ASSIGN_OR_RETURN(Prepared prepared, impl_->Prepare(request, /*own_connection=*/true));
  const Target& target = prepared.target;
  if (stop.stop_requested()) {
    return MakeError(ErrorCode::kCancelled, target.safe_name + ": cancelled");
  }
  pplx::cancellation_token_source cancel;
  // Closing the connection ends a blocked read below (cpprestsdk closes the socket on cancel).
  std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
  Response out;
  try {
    whttp::http_response cpp_response =
        prepared.client->request(prepared.request, cancel.get_token()).get();
    out.status = cpp_response.status_code();
    for (const auto& [name, value] : cpp_response.headers()) {
      out.headers.Add(utility::conversions::to_utf8string(name),
                      utility::conversions::to_utf8string(value));
    }
    if (out.status < 200 || out.status > 299) {
      auto body = std::make_shared<std::string>();
      ReadBounded(cpp_response.body().streambuf(), body, impl_->options.max_body_bytes).get();
      out.body = std::move(*body);
      return out;
    }
    auto buffer = cpp_response.body().streambuf();
    std::string pending;
    std::vector<unsigned char> chunk;
    while (true) {
      if (stop.stop_requested()) {
        return MakeError(ErrorCode::kCancelled, target.safe_name + ": stream cancelled");
      }
      // Reads what is there, or blocks for one byte: getn() waits for the whole count.
      size_t want = std::clamp<size_t>(buffer.in_avail(), 1, 64 * 1024);
      chunk.resize(want);
      size_t n = buffer.getn(chunk.data(), want).get();
      if (n == 0) break;  // the server ended the body
      std::string_view data(reinterpret_cast<const char*>(chunk.data()), n);
      if (!FeedLines(data, pending, on_line)) {
        Abandon(buffer);
        cancel.cancel();
        return out;
      }
      if (pending.size() > impl_->options.max_line_bytes) {
        Abandon(buffer);
        cancel.cancel();
        return MakeError(MakeTransportError(ErrorCode::kUnavailable,
                                            target.safe_name + ": stream line longer than " +
                                                FormatBytes(impl_->options.max_line_bytes) +
                                                "; stream dropped",
                                            /*ambiguous=*/true));
      }
    }
    if (!pending.empty()) {
      std::string_view rest = pending;
      if (rest.back() == '\r') rest.remove_suffix(1);
      on_line(rest);
    }
    return out;
  } catch (const whttp::http_exception& e) {
    if (stop.stop_requested()) {
      return MakeError(ErrorCode::kCancelled, target.safe_name + ": stream cancelled");
    }
    if (out.status != 0) {
      return MakeError(MakeTransportError(
          ErrorCode::kUnavailable,
          target.safe_name + ": stream broke off (" + std::string(e.what()) + ")",
          /*ambiguous=*/true));
    }
    return MakeError(ConvertHttpException(target, e));
  } catch (const pplx::task_canceled&) {
    return MakeError(MakeTransportError(ErrorCode::kCancelled, target.safe_name + ": cancelled",
                                        /*ambiguous=*/true));
  } catch (const BodyTooLarge& e) {
    cancel.cancel();
    return MakeError(MakeTransportError(ErrorCode::kUnavailable,
                                        target.safe_name + ": response body larger than " +
                                            FormatBytes(e.limit) + " (HTTP " +
                                            std::to_string(out.status) + "); refused",
                                        /*ambiguous=*/true));
  } catch (const std::exception&) {
    if (stop.stop_requested()) {
      return MakeError(ErrorCode::kCancelled, target.safe_name + ": stream cancelled");
    }
    return MakeError(MakeTransportError(ErrorCode::kUnavailable,
                                        target.safe_name + ": stream failed", /*ambiguous=*/true));
  }
}

}  // namespace rebootd::http
