#ifndef TCBUILD_CRABBITMQ_SHIM_H
#define TCBUILD_CRABBITMQ_SHIM_H
// rabbitmq-c (Debian librabbitmq-dev). 0.11 on Debian 12 installs <amqp.h>; newer releases
// install <rabbitmq-c/amqp.h> (the old paths are kept as deprecated forwarders there).
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
#include <string.h>

// amqp_login is variadic (the SASL arguments), which Swift cannot call: PLAIN login here.
static inline amqp_rpc_reply_t tcb_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                    int channel_max, int frame_max, int heartbeat,
                                                    const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

// A heartbeat frame, sent by a worker while a long task runs (the connection is single-threaded,
// so the thread that owns it keeps it alive while another thread computes).
static inline int tcb_amqp_send_heartbeat(amqp_connection_state_t state) {
    amqp_frame_t frame;
    memset(&frame, 0, sizeof frame);
    frame.frame_type = AMQP_FRAME_HEARTBEAT;
    frame.channel = 0;
    return amqp_send_frame(state, &frame);
}

// amqp_bytes_t view of a C buffer (the macro-free equivalent of amqp_cstring_bytes for byte arrays).
static inline amqp_bytes_t tcb_amqp_bytes(const void *bytes, size_t len) {
    amqp_bytes_t b;
    b.len = len;
    b.bytes = (void *)bytes;
    return b;
}
#endif
