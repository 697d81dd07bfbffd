#include "common/net.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace clickflow {
namespace {

TEST(NetTest, ParsesHostAndPort) {
  const HostPort hp = ParseHostPort("broker1:9092,broker2:9093");
  EXPECT_EQ(hp.host, "broker1");
  EXPECT_EQ(hp.port, 9092);
  EXPECT_EQ(ParseHostPort("127.0.0.1:65535").port, 65535);
}

// Found by tests/fuzz/net_fuzz: std::stoi took trailing junk and any int as a port.
TEST(NetTest, HostPortRejectsPortsThatAreNotPorts) {
  for (const char* bad : {"localhost:", "host:80abc", "host:-1", "host:0", "host:65536", "host:99999999999", "host: 80",
                          ":9092", "no-port"}) {
    EXPECT_THROW(ParseHostPort(bad), Error) << bad;
  }
}

TEST(NetTest, UrlPortAndHost) {
  EXPECT_EQ(UrlPort("http://127.0.0.1:8123"), 8123);
  EXPECT_EQ(UrlPort("http://127.0.0.1:8123/path"), 8123);
  EXPECT_EQ(UrlPort("http://example.com/"), 80);
  EXPECT_EQ(UrlPort("https://example.com"), 443);
  EXPECT_EQ(UrlPort("http://[::1]:8123/"), 8123);
  EXPECT_EQ(UrlHost("http://[::1]:8123/"), "::1");
  EXPECT_EQ(UrlHost("https://example.com:8443/x"), "example.com");
}

// Found by tests/fuzz/net_fuzz ("localhost:"): std::stoi's std::invalid_argument escaped
// UrlPort ("clickflow: stoi"); an IPv6 URL without a port gave the last group of the address.
TEST(NetTest, UrlPortRejectsBadPortsAndReadsIpv6WithoutPort) {
  for (const char* bad : {"localhost:", "http://h:/", "http://h:x/", "http://h:-1", "http://h:0", "http://h:70000",
                          "http://h:99999999999/"}) {
    EXPECT_THROW(UrlPort(bad), Error) << bad;
  }
  EXPECT_EQ(UrlPort("http://[::1]/"), 80);
  EXPECT_EQ(UrlPort("https://[2001:db8::1]"), 443);
}

}  // namespace
}  // namespace clickflow
