#pragma once
// Prometheus text exposition (format 0.0.4), the one writer of it: each family's # HELP and
// # TYPE once, then its samples; label values escaped (\\, \", \n). Debian 12 has no
// prometheus-cpp package, and the endpoints here only render a few numbers they already hold.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clickflow::prometheus {

// The Content-Type of the text format.
constexpr std::string_view kContentType = "text/plain; version=0.0.4";

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class Text {
 public:
  // Starts a family: its samples follow until the next Family call. `type` is counter, gauge,
  // summary, ...; `help` is written as is (it must not hold a newline).
  Text& Family(std::string_view name, std::string_view type, std::string_view help);

  // One sample `name{labels} value`; `name` may extend the family's (a summary's _sum, _count).
  Text& Sample(std::string_view name, int64_t value, const Labels& labels = {});
  Text& Sample(std::string_view name, uint64_t value, const Labels& labels = {});
  Text& Sample(std::string_view name, int value, const Labels& labels = {}) {
    return Sample(name, static_cast<int64_t>(value), labels);
  }
  Text& Sample(std::string_view name, long long value, const Labels& labels = {}) {
    return Sample(name, static_cast<int64_t>(value), labels);
  }
  Text& Sample(std::string_view name, double value, const Labels& labels = {});

  // A family with a single unlabelled sample.
  template <class T>
  Text& Single(std::string_view name, std::string_view type, std::string_view help, T value) {
    return Family(name, type, help).Sample(name, value);
  }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Head(std::string_view name, const Labels& labels);
  std::string out_;
};

// `value` escaped for a label value: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);

}  // namespace clickflow::prometheus
