#ifndef COMMLOG_CRABBITMQ_SHIM_H
#define COMMLOG_CRABBITMQ_SHIM_H

#include <sys/time.h>
#include <sys/eventfd.h>
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

/* amqp_login is variadic, which Swift cannot call: fix the SASL PLAIN form. */
static inline amqp_rpc_reply_t commlog_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                        int channel_max, int frame_max, int heartbeat,
                                                        const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

/* Method ids are cast macros that Swift does not import. */
static const amqp_method_number_t COMMLOG_BASIC_ACK = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t COMMLOG_BASIC_NACK = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t COMMLOG_BASIC_RETURN = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t COMMLOG_BASIC_DELIVER = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t COMMLOG_BASIC_CANCEL = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t COMMLOG_CHANNEL_CLOSE = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t COMMLOG_CHANNEL_CLOSE_OK = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t COMMLOG_CONNECTION_CLOSE_OK = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t COMMLOG_CONNECTION_CLOSE = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t COMMLOG_CONNECTION_BLOCKED = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t COMMLOG_CONNECTION_UNBLOCKED = AMQP_CONNECTION_UNBLOCKED_METHOD;

static const amqp_flags_t COMMLOG_BASIC_CONTENT_TYPE_FLAG = AMQP_BASIC_CONTENT_TYPE_FLAG;
static const amqp_flags_t COMMLOG_BASIC_DELIVERY_MODE_FLAG = AMQP_BASIC_DELIVERY_MODE_FLAG;
static const amqp_flags_t COMMLOG_BASIC_MESSAGE_ID_FLAG = AMQP_BASIC_MESSAGE_ID_FLAG;
static const amqp_flags_t COMMLOG_BASIC_HEADERS_FLAG = AMQP_BASIC_HEADERS_FLAG;
static const amqp_flags_t COMMLOG_BASIC_TIMESTAMP_FLAG = AMQP_BASIC_TIMESTAMP_FLAG;
static const amqp_flags_t COMMLOG_BASIC_USER_ID_FLAG = AMQP_BASIC_USER_ID_FLAG;

/* amqp_empty_table and amqp_empty_bytes are extern data symbols; expose them as values. */
static inline amqp_table_t commlog_empty_table(void) { return amqp_empty_table; }
static inline amqp_bytes_t commlog_empty_bytes(void) { return amqp_empty_bytes; }

/* A non-blocking eventfd that wakes the connection thread out of poll(). */
static inline int commlog_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

#endif
