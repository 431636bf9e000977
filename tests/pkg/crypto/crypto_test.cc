// SPDX-License-Identifier: Apache-2.0
#include "pkg/crypto/crypto.h"

#include <gtest/gtest.h>

#include <string>

namespace rebootd::crypto {
namespace {

// FIPS 180-2 / NIST example vectors.
TEST(Sha256Test, Abc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("abc").size(), 32u);
}

TEST(Sha256Test, EmptyString) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, TwoBlockMessage) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, BinaryInputWithNulBytes) {
  const std::string data("a\0b", 3);
  EXPECT_NE(Sha256Hex(data), Sha256Hex("a"));
  EXPECT_EQ(Sha256Hex(data).size(), 64u);
}

// RFC 4231 test case 1.
TEST(HmacSha256Test, Rfc4231Case1) {
  const std::string key(20, '\x0b');
  EXPECT_EQ(HexEncode(HmacSha256(key, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

// RFC 4231 test case 2.
TEST(HmacSha256Test, Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 2202 test case 1.
TEST(HmacSha1Test, Rfc2202Case1) {
  const std::string key(20, '\x0b');
  const std::string mac = HmacSha1(key, "Hi There");
  EXPECT_EQ(mac.size(), 20u);
  EXPECT_EQ(HexEncode(mac), "b617318655057264e28bc0b6fb378c8ef146be00");
}

// RFC 2202 test case 2.
TEST(HmacSha1Test, Rfc2202Case2) {
  EXPECT_EQ(HexEncode(HmacSha1("Jefe", "what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(HexEncodeTest, LowercaseAllBytes) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\x7f\x80\xab\xff", 6)), "00017f80abff");
}

// RFC 4648 §10 test vectors.
struct Base64Case {
  const char* plain;
  const char* encoded;
};
constexpr Base64Case kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, Rfc4648EncodeVectors) {
  for (const auto& c : kRfc4648) EXPECT_EQ(Base64Encode(c.plain), c.encoded) << c.plain;
}

TEST(Base64Test, Rfc4648DecodeVectors) {
  for (const auto& c : kRfc4648) {
    auto decoded = Base64Decode(c.encoded);
    ASSERT_TRUE(decoded.has_value()) << c.encoded << ": " << decoded.error().ToString();
    EXPECT_EQ(*decoded, c.plain);
  }
}

TEST(Base64Test, DecodeWithoutPadding) {
  auto one = Base64Decode("Zg");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, "f");
  auto two = Base64Decode("Zm9vYmE");
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(*two, "fooba");
}

TEST(Base64Test, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 37) {
    const std::string part = all.substr(0, len);
    auto decoded = Base64Decode(Base64Encode(part));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, part);
  }
}

TEST(Base64Test, UsesPlusAndSlash) {
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  auto decoded = Base64Decode("+/8=");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, "\xfb\xff");
}

TEST(Base64Test, RejectsMalformedInput) {
  const char* const kBad[] = {
      "Zg=",        // padding that does not complete a 4-character quantum
      "Zm9v=",      // padding after a complete quantum
      "Z",          // a single trailing character cannot encode a byte
      "Zm9vY",      // same, after a full quantum
      "Zg===",      // too much padding
      "====",       // padding only
      "=",          // padding only
      "Zm=v",       // padding in the middle
      "Zm9v Yg==",  // whitespace
      "Zm9v\nYg==",
      "Zm9v-_==",  // URL-safe alphabet is not standard base64
      "Zm9v*A==",  // not in the alphabet
      "Zh==",      // non-zero trailing bits (non-canonical)
  };
  for (const char* bad : kBad) {
    auto decoded = Base64Decode(bad);
    ASSERT_FALSE(decoded.has_value()) << bad;
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_FALSE(ConstantTimeEquals("xbc", "abc"));
}

}  // namespace
}  // namespace rebootd::crypto
