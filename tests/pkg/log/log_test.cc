// SPDX-License-Identifier: Apache-2.0
// pkg/log: level specs, per-component levels, and the text and JSON line formats, captured
// through SetSinkForTest.
#include "pkg/log/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pkg/json/json.h"

namespace rebootd::log {
namespace {

using spdlog::level::level_enum;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(log::Setup(LogOptions{"text", "info"}).has_value());
    SetSinkForTest(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_, /*force_flush=*/true));
  }
  void TearDown() override {
    SetSinkForTest(nullptr);
    ASSERT_TRUE(log::Setup(LogOptions{"text", "info"}).has_value());
  }

  std::vector<std::string> Lines() {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::ostringstream out_;
};

TEST(ParseLevelSpecTest, AcceptsDefaultsAndComponentOverrides) {
  auto spec = ParseLevelSpec("info,cloud=debug,controller=trace");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->default_level, spdlog::level::info);
  EXPECT_EQ(spec->For("cloud"), spdlog::level::debug);
  EXPECT_EQ(spec->For("controller"), spdlog::level::trace);
  EXPECT_EQ(spec->For("kube"), spdlog::level::info);
  EXPECT_EQ(spec->For("not-a-component"), spdlog::level::info);

  struct Case {
    std::string_view spec;
    level_enum default_level;
  };
  const Case cases[] = {{"", spdlog::level::info},
                        {"debug", spdlog::level::debug},
                        {"WARNING", spdlog::level::warn},
                        {" error ", spdlog::level::err},
                        {"critical", spdlog::level::critical},
                        {"off", spdlog::level::off},
                        {"cloud=debug", spdlog::level::info},
                        {"kube=error , warn", spdlog::level::warn}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.spec));
    auto parsed = ParseLevelSpec(c.spec);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    EXPECT_EQ(parsed->default_level, c.default_level);
  }
  auto spaced = ParseLevelSpec(" warn , kube = error ");
  ASSERT_TRUE(spaced.has_value());
  EXPECT_EQ(spaced->For("kube"), spdlog::level::err);
}

TEST(ParseLevelSpecTest, RejectsBadSpecsNamingTheProblem) {
  struct Case {
    std::string_view spec;
    std::string_view mentions;
  };
  const Case cases[] = {
      {"verbose", "\"verbose\""},
      {"info,cloud=loud", "\"loud\""},
      {"info,nosuch=debug", "unknown log component \"nosuch\""},
      {"=debug", "unknown log component \"\""},
      {"info,debug", "more than one default level"},
      {"cloud=debug,cloud=info", "\"cloud\" given twice"},
      {"info,,cloud=debug", "empty item"},
      {"info,", "empty item"},
      {"cloud=", "invalid log level \"\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.spec));
    auto parsed = ParseLevelSpec(c.spec);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find(c.mentions), std::string::npos) << parsed.error().message;
  }
}

TEST_F(LogTest, UnknownFormatIsRejectedAndChangesNothing) {
  ASSERT_TRUE(log::Setup(LogOptions{"text", "warn"}).has_value());
  auto status = log::Setup(LogOptions{"xml", "debug"});
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(status.error().message.find("\"xml\""), std::string::npos);
  auto bad_level = log::Setup(LogOptions{"json", "loud"});
  ASSERT_FALSE(bad_level.has_value());
  EXPECT_EQ(bad_level.error().code, ErrorCode::kInvalidArgument);

  Get("controller")->info("dropped at warn");
  Get("controller")->warn("kept");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].front(), '2');  // still text, not JSON
}

TEST_F(LogTest, PerComponentLevelsApplyToExistingAndNewLoggers) {
  auto controller = Get("controller");  // exists before Setup
  ASSERT_TRUE(log::Setup(LogOptions{"text", "warn,cloud=debug,sim=trace"}).has_value());
  controller->info("controller info");
  controller->warn("controller warn");
  Get("cloud")->debug("cloud debug");
  Get("cloud")->trace("cloud trace");
  Get("sim")->trace("sim trace");
  Get("kube")->info("kube info");
  Get("kube")->error("kube error");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 4u) << out_.str();
  EXPECT_NE(lines[0].find("controller: controller warn"), std::string::npos);
  EXPECT_NE(lines[1].find("cloud: cloud debug"), std::string::npos);
  EXPECT_NE(lines[2].find("sim: sim trace"), std::string::npos);
  EXPECT_NE(lines[3].find("kube: kube error"), std::string::npos);
  EXPECT_EQ(Get("cloud"), Get("cloud"));  // one logger per component
  EXPECT_EQ(controller->level(), spdlog::level::warn);
}

TEST_F(LogTest, TextLinesHaveTheDocumentedShape) {
  Get("controller")->info("reboot accepted request={} instance={}", "ops/web", "ein-1");
  Get("ratelimit")->warn("bucket slowed");
  Get("main")->error("two\nlines");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  const std::regex ts(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z )");
  EXPECT_TRUE(std::regex_search(lines[0], ts)) << lines[0];
  EXPECT_EQ(lines[0].substr(25),
            "INFO  controller: reboot accepted request=ops/web instance=ein-1");
  EXPECT_EQ(lines[1].substr(25), "WARN  ratelimit: bucket slowed");
  EXPECT_EQ(lines[2].substr(25), "ERROR main: two\\nlines");  // one record, one line
}

TEST_F(LogTest, JsonLinesParseAndEscapeEverything) {
  ASSERT_TRUE(log::Setup(LogOptions{"json", "debug"}).has_value());
  const std::string tricky = "say \"hi\" \\ path\nnext\tline \x01 end \xff";
  Get("cloud")->debug("{}", tricky);
  Get("controller")
      ->info("reboot accepted request=ops/web instance=ein-496721al note=\"two words\" msg=spoof");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u) << out_.str();

  auto first = json::Parse(lines[0]);
  ASSERT_TRUE(first.has_value()) << first.error().ToString() << "\n" << lines[0];
  ASSERT_TRUE(first->is_object());
  EXPECT_EQ(first->Find("level")->AsString(), "debug");
  EXPECT_EQ(first->Find("logger")->AsString(), "cloud");
  // Everything round-trips except the invalid UTF-8 byte, which becomes U+FFFD.
  EXPECT_EQ(first->Find("msg")->AsString(), "say \"hi\" \\ path\nnext\tline \x01 end \xef\xbf\xbd");
  EXPECT_TRUE(std::regex_match(first->Find("ts")->AsString(),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")));
  EXPECT_EQ(first->AsObject().front().first, "ts");

  auto second = json::Parse(lines[1]);
  ASSERT_TRUE(second.has_value()) << second.error().ToString() << "\n" << lines[1];
  EXPECT_EQ(second->Find("level")->AsString(), "info");
  EXPECT_EQ(second->Find("msg")->AsString(),
            "reboot accepted request=ops/web instance=ein-496721al note=\"two words\" msg=spoof");
  EXPECT_EQ(second->Find("request")->AsString(), "ops/web");
  EXPECT_EQ(second->Find("instance")->AsString(), "ein-496721al");
  EXPECT_EQ(second->Find("note")->AsString(), "two words");
}

TEST_F(LogTest, SwitchingBackToTextWorks) {
  ASSERT_TRUE(log::Setup(LogOptions{"json", "info"}).has_value());
  Get("main")->info("a");
  ASSERT_TRUE(log::Setup(LogOptions{"text", "info"}).has_value());
  Get("main")->info("b");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].front(), '{');
  EXPECT_EQ(lines[1].substr(25), "INFO  main: b");
}

TEST_F(LogTest, ConcurrentLoggingKeepsLinesWhole) {
  ASSERT_TRUE(log::Setup(LogOptions{"json", "info"}).has_value());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      auto logger = Get(t % 2 == 0 ? "controller" : "cloud");
      for (int i = 0; i < 200; ++i) logger->info("worker={} i={}", t, i);
    });
  }
  for (auto& thread : threads) thread.join();
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    auto parsed = json::Parse(line);
    ASSERT_TRUE(parsed.has_value()) << line;
    EXPECT_NE(parsed->Find("worker"), nullptr);
  }
}

}  // namespace
}  // namespace rebootd::log
