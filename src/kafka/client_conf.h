#pragma once
// A librdkafka configuration under construction, shared by the admin client, the producer and
// the consumer: each setting is checked as it is set (the error names the key, never the value,
// which may be a secret), and the configuration is freed unless a client took it.
#include <librdkafka/rdkafka.h>

#include <string>

namespace clickflow::kafka {

class ClientConf {
 public:
  // `kind` names the client in errors: "producer", "consumer", "admin client".
  explicit ClientConf(std::string kind);
  ~ClientConf();
  ClientConf(const ClientConf&) = delete;
  ClientConf& operator=(const ClientConf&) = delete;

  void Set(const std::string& key, const std::string& value);
  // For the rd_kafka_conf_set_*_cb calls; still owned by this object.
  rd_kafka_conf_t* get() const { return conf_; }
  // rd_kafka_new with this configuration, which the client then owns; throws Error on failure.
  rd_kafka_t* NewClient(rd_kafka_type_t type);

 private:
  std::string kind_;
  rd_kafka_conf_t* conf_;
};

}  // namespace clickflow::kafka
