// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/call.h"

#include <gtest/gtest.h>

#include "pkg/http/url.h"

namespace rebootd::cloud {
namespace {

std::string Encode(std::string_view s) { return http::PercentEncode(s); }

TEST(BodySnippetTest, SanitisesAndBounds) {
  EXPECT_EQ(BodySnippet(""), "<empty body>");
  EXPECT_EQ(BodySnippet("  \n\t "), "<empty body>");
  EXPECT_EQ(BodySnippet("<html>\r\n  <body>Bad\x01 Gateway</body>\n</html>\n"),
            "<html> <body>Bad Gateway</body> </html>");
  EXPECT_EQ(BodySnippet("caf\xc3\xa9"), "caf??");
  std::string big(5000, 'x');
  std::string snippet = BodySnippet(big);
  EXPECT_EQ(snippet.size(), 203u);
  EXPECT_EQ(snippet.substr(200), "...");
  EXPECT_EQ(BodySnippet(big, 10), "xxxxxxxxxx...");
  EXPECT_EQ(BodySnippet(std::string(200, 'y')), std::string(200, 'y'));
}

TEST(RedactorTest, RedactsRawAndEncodedForms) {
  Redactor redactor(&Encode);
  redactor.Add("a+b/c=");  // a base64-looking signature
  redactor.Add("ab");      // too short: ignored
  redactor.Add("");
  EXPECT_EQ(redactor.Apply("sig=a+b/c= url=Signature=a%2Bb%2Fc%3D sts=a%252Bb%252Fc%253D ab"),
            "sig=<redacted> url=Signature=<redacted> sts=<redacted> ab");
}

TEST(RedactorTest, LongerValuesFirst) {
  Redactor redactor;
  redactor.Add("secret");
  redactor.Add("secret-token-123");
  EXPECT_EQ(redactor.Apply("x secret-token-123 y secret"), "x <redacted> y <redacted>");
}

TEST(CallCodesTest, TransportAndHttpCodes) {
  Error e;
  e.code = ErrorCode::kDeadlineExceeded;
  EXPECT_EQ(TransportCallCode(e), "Timeout");
  e.code = ErrorCode::kUnavailable;
  e.ambiguous = true;
  EXPECT_EQ(TransportCallCode(e), "ConnectionReset");
  e.ambiguous = false;
  EXPECT_EQ(TransportCallCode(e), "ConnectionFailed");
  e.code = ErrorCode::kInvalidArgument;
  EXPECT_EQ(TransportCallCode(e), "TransportError");
  EXPECT_EQ(HttpClassCode(503), "HTTP5xx");
  EXPECT_EQ(HttpClassCode(404), "HTTP4xx");
  EXPECT_EQ(HttpClassCode(0), "HTTPxxx");
}

TEST(JitteredBackoffTest, DoublesWithinJitterAndCaps) {
  SeededRandom random(7);
  using std::chrono::milliseconds;
  for (int retry = 1; retry <= 10; ++retry) {
    Duration full = std::min<Duration>(milliseconds(100) * (1 << (retry - 1)), milliseconds(2000));
    for (int i = 0; i < 20; ++i) {
      Duration d = JitteredBackoff(milliseconds(100), milliseconds(2000), retry, random);
      EXPECT_GE(d, full / 2) << retry;
      EXPECT_LT(d, full) << retry;
    }
  }
}

}  // namespace
}  // namespace rebootd::cloud
