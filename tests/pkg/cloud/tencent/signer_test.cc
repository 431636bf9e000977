// SPDX-License-Identifier: Apache-2.0
// Known-answer tests for TC3-HMAC-SHA256; expected values from cloud-apis.md §2.3-2.4.
#include "pkg/cloud/tencent/signer.h"

#include <gtest/gtest.h>

#include <string>

#include "pkg/crypto/crypto.h"

namespace rebootd::cloud::tencent {
namespace {

constexpr int64_t kTimestamp = 1551113065;
constexpr char kSecretId[] = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
constexpr char kSecretKey[] = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
// Exact bytes of the official payload: the Chinese name travels as literal \u escapes.
constexpr char kClassicPayload[] =
    R"({"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]})";
constexpr char kClassicContentType[] = "application/json; charset=utf-8";

Credentials ClassicCredentials() { return Credentials{kSecretId, kSecretKey, ""}; }

Tc3Input ClassicInput() {
  Tc3Input input;
  input.method = "POST";
  input.host = "cvm.tencentcloudapi.com";
  input.service = "cvm";
  input.canonical_uri = "/";
  input.canonical_query = "";
  input.content_type = kClassicContentType;
  input.payload = kClassicPayload;
  input.timestamp = kTimestamp;
  return input;
}

constexpr char kClassicCanonicalRequest[] =
    "POST\n"
    "/\n"
    "\n"
    "content-type:application/json; charset=utf-8\n"
    "host:cvm.tencentcloudapi.com\n"
    "\n"
    "content-type;host\n"
    "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";

TEST(Tc3DateTest, ScopeDateIsUtc) {
  // 2019-02-26 00:44:25 in UTC+8, but 2019-02-25 16:44:25 UTC.
  EXPECT_EQ(Tc3Date(kTimestamp), "2019-02-25");
  EXPECT_EQ(Tc3Date(0), "1970-01-01");
  EXPECT_EQ(Tc3Date(1551052800), "2019-02-25");      // 2019-02-25T00:00:00Z
  EXPECT_EQ(Tc3Date(1551052800 - 1), "2019-02-24");  // one second before UTC midnight
  EXPECT_EQ(Tc3Date(1551139199), "2019-02-25");      // 2019-02-25T23:59:59Z
  EXPECT_EQ(Tc3Date(1709251199), "2024-02-29");      // leap day, last second
}

TEST(Tc3DateTest, CredentialScope) {
  EXPECT_EQ(Tc3CredentialScope(kTimestamp, "cvm"), "2019-02-25/cvm/tc3_request");
  EXPECT_EQ(Tc3CredentialScope(kTimestamp, "ecm"), "2019-02-25/ecm/tc3_request");
}

TEST(Tc3SignerTest, ClassicExampleLowLevel) {
  EXPECT_EQ(crypto::Sha256Hex(kClassicPayload),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
  const std::map<std::string, std::string> headers = {{"content-type", kClassicContentType},
                                                      {"host", "cvm.tencentcloudapi.com"}};
  const std::string canonical = Tc3CanonicalRequest("POST", "/", "", headers, kClassicPayload);
  EXPECT_EQ(canonical, kClassicCanonicalRequest);
  EXPECT_EQ(crypto::Sha256Hex(canonical),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
  const std::string string_to_sign = Tc3StringToSign(kTimestamp, "cvm", canonical);
  EXPECT_EQ(string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");

  // Intermediate keys of the derivation.
  const std::string secret_date = crypto::HmacSha256(std::string("TC3") + kSecretKey, "2019-02-25");
  EXPECT_EQ(crypto::HexEncode(secret_date),
            "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a");
  const std::string secret_service = crypto::HmacSha256(secret_date, "cvm");
  EXPECT_EQ(crypto::HexEncode(secret_service),
            "3c7cb7c7795393edc14fd2e0e6434a518564b4504b88e94f5d11bf59ba3e7050");
  const std::string signing_key = Tc3SigningKey(kSecretKey, "2019-02-25", "cvm");
  EXPECT_EQ(crypto::HexEncode(signing_key),
            "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1");

  EXPECT_EQ(Tc3Signature(signing_key, string_to_sign),
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
}

TEST(Tc3SignerTest, ClassicExampleViaSignTc3) {
  const Tc3Signed out = SignTc3(ClassicInput(), ClassicCredentials());
  EXPECT_EQ(out.canonical_request, kClassicCanonicalRequest);
  EXPECT_EQ(out.signed_headers, "content-type;host");
  EXPECT_EQ(out.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
  EXPECT_EQ(out.signature, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
  EXPECT_EQ(out.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/"
            "tc3_request, SignedHeaders=content-type;host, "
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
}

TEST(Tc3SignerTest, XTcActionVariant) {
  Tc3Input input = ClassicInput();
  input.extra_signed_headers = {{"x-tc-action", "DescribeInstances"}};
  const Tc3Signed out = SignTc3(input, ClassicCredentials());
  EXPECT_EQ(out.signed_headers, "content-type;host;x-tc-action");
  EXPECT_NE(out.canonical_request.find("\nx-tc-action:describeinstances\n"), std::string::npos);
  EXPECT_EQ(crypto::Sha256Hex(out.canonical_request),
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
  EXPECT_EQ(out.signature, "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26");
  EXPECT_NE(out.authorization.find(", SignedHeaders=content-type;host;x-tc-action, "),
            std::string::npos);
}

TEST(Tc3SignerTest, XTcActionVariantWithMaskedKey) {
  Tc3Input input = ClassicInput();
  input.extra_signed_headers = {{"x-tc-action", "DescribeInstances"}};
  const std::string masked(32, '*');
  EXPECT_EQ(crypto::HexEncode(Tc3SigningKey(masked, "2019-02-25", "cvm")),
            "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af");
  const Tc3Signed out = SignTc3(input, Credentials{kSecretId, masked, ""});
  EXPECT_EQ(out.signature, "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
}

constexpr char kEcmPayload[] = R"({"InstanceIdSet":["ein-496721al"],"StopType":"SOFT"})";

Tc3Input EcmInput(const char* content_type) {
  Tc3Input input;
  input.host = "ecm.tencentcloudapi.com";
  input.service = "ecm";
  input.content_type = content_type;
  input.payload = kEcmPayload;
  input.timestamp = kTimestamp;
  return input;
}

TEST(Tc3SignerTest, DerivedEcmWithCharset) {
  EXPECT_EQ(crypto::Sha256Hex(kEcmPayload),
            "d4d2812143850260e38108c02a0eb05b7e2c776355723b01821c794aefc2fb44");
  const Tc3Signed out = SignTc3(EcmInput("application/json; charset=utf-8"), ClassicCredentials());
  EXPECT_EQ(crypto::Sha256Hex(out.canonical_request),
            "796a12c168f2c0a7bfa8e4f7314b183969e430b239aea844fb88464349b067c2");
  EXPECT_EQ(out.signature, "4570d0d768f394dba7f7716c2c7160673bce2a4329f4e63b7e2c4979d72e0131");
  EXPECT_EQ(out.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/ecm/"
            "tc3_request, SignedHeaders=content-type;host, "
            "Signature=4570d0d768f394dba7f7716c2c7160673bce2a4329f4e63b7e2c4979d72e0131");
}

TEST(Tc3SignerTest, DerivedEcmPlainJson) {
  const Tc3Signed out = SignTc3(EcmInput("application/json"), ClassicCredentials());
  EXPECT_EQ(out.canonical_request,
            "POST\n/\n\ncontent-type:application/json\nhost:ecm.tencentcloudapi.com\n\n"
            "content-type;host\n"
            "d4d2812143850260e38108c02a0eb05b7e2c776355723b01821c794aefc2fb44");
  EXPECT_EQ(out.signature, "86d29142b9f652470cfc3898ceccf8d734749249ba1d80c30a0ab4c08f865cd3");
}

TEST(Tc3SignerTest, CanonicalHeadersAreLowercasedTrimmedAndSorted) {
  const std::map<std::string, std::string> messy = {{"host", "  ECM.TencentCloudAPI.com "},
                                                    {"content-type", "Application/JSON"},
                                                    {"x-tc-action", "RebootInstances"}};
  const std::map<std::string, std::string> clean = {{"content-type", "application/json"},
                                                    {"host", "ecm.tencentcloudapi.com"},
                                                    {"x-tc-action", "rebootinstances"}};
  const std::string canonical = Tc3CanonicalRequest("POST", "/", "", messy, "{}");
  EXPECT_EQ(canonical, Tc3CanonicalRequest("POST", "/", "", clean, "{}"));
  EXPECT_EQ(canonical,
            "POST\n/\n\ncontent-type:application/json\nhost:ecm.tencentcloudapi.com\n"
            "x-tc-action:rebootinstances\n\ncontent-type;host;x-tc-action\n" +
                crypto::Sha256Hex("{}"));
}

TEST(Tc3SignerTest, GetWithQuerySignsEmptyPayload) {
  Tc3Input input = EcmInput("application/x-www-form-urlencoded");
  input.method = "GET";
  input.canonical_query = "Limit=10&Offset=0";
  input.payload = "";
  const Tc3Signed out = SignTc3(input, ClassicCredentials());
  EXPECT_EQ(out.canonical_request,
            "GET\n/\nLimit=10&Offset=0\ncontent-type:application/x-www-form-urlencoded\n"
            "host:ecm.tencentcloudapi.com\n\ncontent-type;host\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Tc3SignerTest, SignatureDependsOnTimestampKeyAndPayload) {
  const Tc3Signed base = SignTc3(EcmInput("application/json"), ClassicCredentials());
  Tc3Input later = EcmInput("application/json");
  later.timestamp += 1;
  EXPECT_NE(SignTc3(later, ClassicCredentials()).signature, base.signature);
  Tc3Input other_payload = EcmInput("application/json");
  other_payload.payload += " ";
  EXPECT_NE(SignTc3(other_payload, ClassicCredentials()).signature, base.signature);
  EXPECT_NE(SignTc3(EcmInput("application/json"), Credentials{kSecretId, "other", ""}).signature,
            base.signature);
}

}  // namespace
}  // namespace rebootd::cloud::tencent
