#ifndef COMMLOG_CLIBETPAN_SHIM_H
#define COMMLOG_CLIBETPAN_SHIM_H

/* libetpan's IMAP client, with helpers that walk its clist results in C so that Swift only sees
   plain values through callbacks. Every helper returns a libetpan status (MAILIMAP_NO_ERROR = 0). */

#include <libetpan/libetpan.h>
#include <poll.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

typedef void (*commlog_imap_folder_cb)(void *context, const char *name, const char *flags);
typedef void (*commlog_imap_uid_cb)(void *context, uint32_t uid);
typedef void (*commlog_imap_message_cb)(void *context, uint32_t uid, const char *bytes, size_t length, int64_t internal_date);

/* LIST "" "*": every folder with its flags joined by spaces ("\HasNoChildren \Sent"). */
static inline int commlog_imap_list(mailimap *session, commlog_imap_folder_cb callback, void *context) {
    clist *result = NULL;
    int status = mailimap_list(session, "", "*", &result);
    if (status != MAILIMAP_NO_ERROR) return status;
    for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
        struct mailimap_mailbox_list *folder = clist_content(it);
        char flags[1024] = "";
        if (folder->mb_flag != NULL) {
            if (folder->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
                folder->mb_flag->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
                strncat(flags, "\\Noselect ", sizeof(flags) - strlen(flags) - 1);
            for (clistiter *f = clist_begin(folder->mb_flag->mbf_oflags); f != NULL; f = clist_next(f)) {
                struct mailimap_mbx_list_oflag *oflag = clist_content(f);
                if (oflag->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && oflag->of_flag_ext != NULL) {
                    strncat(flags, "\\", sizeof(flags) - strlen(flags) - 1);
                    strncat(flags, oflag->of_flag_ext, sizeof(flags) - strlen(flags) - 1);
                    strncat(flags, " ", sizeof(flags) - strlen(flags) - 1);
                }
            }
        }
        callback(context, folder->mb_name, flags);
    }
    mailimap_list_result_free(result);
    return MAILIMAP_NO_ERROR;
}

/* UID SEARCH UID first:* [SINCE d-m-y] [SEEN] (since_year 0: no date). */
static inline int commlog_imap_search(mailimap *session, uint32_t first, int since_day, int since_month, int since_year,
                                      int seen_only, commlog_imap_uid_cb callback, void *context) {
    struct mailimap_set *set = mailimap_set_new_interval(first, 0);
    struct mailimap_search_key *key = mailimap_search_key_new_multiple_empty();
    mailimap_search_key_multiple_add(key, mailimap_search_key_new_uid(set));
    if (since_year > 0) {
        mailimap_search_key_multiple_add(key, mailimap_search_key_new_since(mailimap_date_new(since_day, since_month, since_year)));
    }
    if (seen_only) {
        mailimap_search_key_multiple_add(key, mailimap_search_key_new(MAILIMAP_SEARCH_KEY_SEEN, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL));
    }
    clist *result = NULL;
    int status = mailimap_uid_search(session, NULL, key, &result);
    mailimap_search_key_free(key);
    if (status != MAILIMAP_NO_ERROR) return status;
    for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
        uint32_t *uid = clist_content(it);
        callback(context, *uid);
    }
    mailimap_search_result_free(result);
    return MAILIMAP_NO_ERROR;
}

static inline int64_t commlog_imap_unix_time(struct mailimap_date_time *date) {
    if (date == NULL) return 0;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_mday = date->dt_day;
    tm.tm_mon = date->dt_month - 1;
    tm.tm_year = date->dt_year - 1900;
    tm.tm_hour = date->dt_hour;
    tm.tm_min = date->dt_min;
    tm.tm_sec = date->dt_sec;
    int zone = date->dt_zone; /* +HHMM as a number */
    int offset = (zone / 100) * 3600 + (zone % 100) * 60;
    return (int64_t)timegm(&tm) - offset;
}

/* UID FETCH of `type` (which this frees; UID is added to it) for the given UIDs; *result to free with
   mailimap_fetch_list_free. */
static inline int commlog_imap_uid_fetch(mailimap *session, const uint32_t *uids, size_t count,
                                         struct mailimap_fetch_type *type, clist **result) {
    struct mailimap_set *set = mailimap_set_new_empty();
    for (size_t i = 0; i < count; i++) mailimap_set_add_single(set, uids[i]);
    mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid());
    int status = mailimap_uid_fetch(session, set, type, result);
    mailimap_fetch_type_free(type);
    mailimap_set_free(set);
    return status;
}

/* UID FETCH set (UID INTERNALDATE BODY.PEEK[]): PEEK leaves \Seen alone. uids holds count UIDs. */
static inline int commlog_imap_fetch(mailimap *session, const uint32_t *uids, size_t count, int headers_only,
                                     commlog_imap_message_cb callback, void *context) {
    struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_internaldate());
    /* BODY.PEEK[] or BODY.PEEK[HEADER]: never sets \Seen. */
    struct mailimap_section *section = headers_only ? mailimap_section_new_header() : mailimap_section_new(NULL);
    mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_body_peek_section(section));
    clist *result = NULL;
    int status = commlog_imap_uid_fetch(session, uids, count, type, &result);
    if (status != MAILIMAP_NO_ERROR) return status;
    for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
        struct mailimap_msg_att *message = clist_content(it);
        uint32_t uid = 0;
        const char *bytes = NULL;
        size_t length = 0;
        int64_t internal = 0;
        for (clistiter *a = clist_begin(message->att_list); a != NULL; a = clist_next(a)) {
            struct mailimap_msg_att_item *item = clist_content(a);
            if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC) continue;
            struct mailimap_msg_att_static *att = item->att_data.att_static;
            switch (att->att_type) {
            case MAILIMAP_MSG_ATT_UID: uid = att->att_data.att_uid; break;
            case MAILIMAP_MSG_ATT_INTERNALDATE: internal = commlog_imap_unix_time(att->att_data.att_internal_date); break;
            case MAILIMAP_MSG_ATT_BODY_SECTION:
                if (att->att_data.att_body_section != NULL) {
                    bytes = att->att_data.att_body_section->sec_body_part;
                    length = att->att_data.att_body_section->sec_length;
                }
                break;
            default: break;
            }
        }
        if (uid != 0) callback(context, uid, bytes, length, internal);
    }
    mailimap_fetch_list_free(result);
    return MAILIMAP_NO_ERROR;
}

/* UID FETCH uids (UID RFC822.SIZE): each message's size, before deciding whether to fetch it whole. */
typedef void (*commlog_imap_size_cb)(void *context, uint32_t uid, uint32_t size);
static inline int commlog_imap_sizes(mailimap *session, const uint32_t *uids, size_t count, commlog_imap_size_cb callback, void *context) {
    struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
    mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_rfc822_size());
    clist *result = NULL;
    int status = commlog_imap_uid_fetch(session, uids, count, type, &result);
    if (status != MAILIMAP_NO_ERROR) return status;
    for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
        struct mailimap_msg_att *message = clist_content(it);
        uint32_t uid = 0, size = 0;
        for (clistiter *a = clist_begin(message->att_list); a != NULL; a = clist_next(a)) {
            struct mailimap_msg_att_item *item = clist_content(a);
            if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC) continue;
            struct mailimap_msg_att_static *att = item->att_data.att_static;
            if (att->att_type == MAILIMAP_MSG_ATT_UID) uid = att->att_data.att_uid;
            if (att->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) size = att->att_data.att_rfc822_size;
        }
        if (uid != 0) callback(context, uid, size);
    }
    mailimap_fetch_list_free(result);
    return MAILIMAP_NO_ERROR;
}

/* SELECT (with CONDSTORE when asked) and report UIDVALIDITY, UIDNEXT, EXISTS and HIGHESTMODSEQ. */
static inline int commlog_imap_select(mailimap *session, const char *folder, int condstore,
                                      uint32_t *uidvalidity, uint32_t *uidnext, uint32_t *exists, uint64_t *modseq) {
    int status;
    *modseq = 0;
    if (condstore) status = mailimap_select_condstore(session, folder, modseq);
    else status = mailimap_select(session, folder);
    if (status != MAILIMAP_NO_ERROR) return status;
    struct mailimap_selection_info *info = session->imap_selection_info;
    *uidvalidity = info ? info->sel_uidvalidity : 0;
    *uidnext = info ? info->sel_uidnext : 0;
    *exists = info ? info->sel_exists : 0;
    return MAILIMAP_NO_ERROR;
}

/* IDLE until the server says something, timeout_ms passes or interrupt_fd (an eventfd) is signalled, then DONE.
   *woken is 1 when the server spoke, 2 when interrupted. */
static inline int commlog_imap_idle_wait(mailimap *session, int timeout_ms, int interrupt_fd, int *woken) {
    *woken = 0;
    int status = mailimap_idle(session);
    if (status != MAILIMAP_NO_ERROR) return status;
    int fd = mailimap_idle_get_fd(session);
    if (fd < 0) { mailimap_idle_done(session); return MAILIMAP_ERROR_STREAM; }
    struct pollfd descriptors[2] = { { .fd = fd, .events = POLLIN, .revents = 0 }, { .fd = interrupt_fd, .events = POLLIN, .revents = 0 } };
    int ready = poll(descriptors, interrupt_fd >= 0 ? 2 : 1, timeout_ms);
    if (ready > 0 && (descriptors[0].revents & (POLLIN | POLLHUP | POLLERR))) *woken = 1;
    if (ready > 0 && interrupt_fd >= 0 && (descriptors[1].revents & POLLIN)) {
        uint64_t value;
        (void)!read(interrupt_fd, &value, sizeof(value));
        *woken = 2;
    }
    return mailimap_idle_done(session);
}

/* An eventfd that interrupts an IDLE wait from another thread. */
static inline int commlog_imap_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
static inline void commlog_imap_wake(int fd) { uint64_t one = 1; (void)!write(fd, &one, sizeof(one)); }

/* Capabilities after login: one callback per name ("IDLE", "CONDSTORE", "AUTH=PLAIN"). */
static inline int commlog_imap_capabilities(mailimap *session, void (*callback)(void *, const char *), void *context) {
    struct mailimap_capability_data *data = NULL;
    int status = mailimap_capability(session, &data);
    if (status != MAILIMAP_NO_ERROR) return status;
    for (clistiter *it = clist_begin(data->cap_list); it != NULL; it = clist_next(it)) {
        struct mailimap_capability *capability = clist_content(it);
        if (capability->cap_type == MAILIMAP_CAPABILITY_NAME) callback(context, capability->cap_data.cap_name);
        else if (capability->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE) {
            char name[256];
            snprintf(name, sizeof(name), "AUTH=%s", capability->cap_data.cap_auth_type);
            callback(context, name);
        }
    }
    mailimap_capability_data_free(data);
    return MAILIMAP_NO_ERROR;
}

/* The server's last response text (for error messages: "[AUTHENTICATIONFAILED] ..."). */
static inline const char *commlog_imap_response(mailimap *session) {
    return session->imap_response != NULL ? session->imap_response : "";
}

/* UID STORE +FLAGS.SILENT (\Deleted) on the UIDs, then EXPUNGE: tests remove what they appended. */
static inline int commlog_imap_remove(mailimap *session, const uint32_t *uids, size_t count) {
    struct mailimap_set *set = mailimap_set_new_empty();
    for (size_t i = 0; i < count; i++) mailimap_set_add_single(set, uids[i]);
    struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
    mailimap_flag_list_add(flags, mailimap_flag_new_deleted());
    struct mailimap_store_att_flags *store = mailimap_store_att_flags_new_add_flags_silent(flags);
    int status = mailimap_uid_store(session, set, store);
    mailimap_store_att_flags_free(store);
    mailimap_set_free(set);
    if (status != MAILIMAP_NO_ERROR) return status;
    return mailimap_expunge(session);
}

/* APPEND with flags (none) and no date: tests and benchmarks fill mailboxes with it. */
static inline int commlog_imap_append(mailimap *session, const char *folder, const char *bytes, size_t length) {
    return mailimap_append(session, folder, NULL, NULL, bytes, length);
}

/* TLS with the server's name (SNI) sent, so that a server with several names presents the right certificate.
   libetpan does not verify the certificate; the caller checks the chain (commlog_imap_peer_certificates). */
static inline void commlog_imap_server_name(struct mailstream_ssl_context *context, void *host) {
    mailstream_ssl_set_server_name(context, (char *)host);
}

static inline int commlog_imap_ssl_connect(mailimap *session, const char *host, uint16_t port) {
    return mailimap_ssl_connect_with_callback(session, host, port, commlog_imap_server_name, (void *)host);
}

static inline int commlog_imap_starttls(mailimap *session, const char *host) {
    return mailimap_socket_starttls_with_callback(session, commlog_imap_server_name, (void *)host);
}

/* The certificates the server presented, leaf first, each as DER; returns how many (0 without TLS). */
static inline int commlog_imap_peer_certificates(mailimap *session, void (*callback)(void *, const unsigned char *, size_t), void *context) {
    if (session->imap_stream == NULL) return 0;
    carray *chain = mailstream_get_certificate_chain(session->imap_stream);
    if (chain == NULL) return 0;
    unsigned int count = carray_count(chain);
    for (unsigned int i = 0; i < count; i++) {
        MMAPString *der = (MMAPString *)carray_get(chain, i);
        callback(context, (const unsigned char *)der->str, der->len);
    }
    mailstream_certificate_chain_free(chain);
    return (int)count;
}

#endif
