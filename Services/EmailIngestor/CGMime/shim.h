#ifndef COMMLOG_CGMIME_SHIM_H
#define COMMLOG_CGMIME_SHIM_H

/* GMime 3 through GMimeObject pointers only: the GObject cast and type-check macros are not visible
   to Swift, so the helpers below do the casts. Strings returned as `char *` are g_malloc'd (g_free them);
   `const char *` ones belong to the object. */

#include <gmime/gmime.h>
#include <string.h>

typedef void (*commlog_mime_address_cb)(void *context, const char *name, const char *address);
typedef void (*commlog_mime_string_cb)(void *context, const char *value);

static inline void commlog_mime_init(void) { g_mime_init(); }

/* Parses a whole message; NULL when GMime finds no message at all. Unref with commlog_mime_unref. */
static inline GMimeObject *commlog_mime_parse(const char *bytes, size_t length) {
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(bytes, length);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    return message != NULL ? GMIME_OBJECT(message) : NULL;
}

static inline void commlog_mime_unref(GMimeObject *object) { g_object_unref(object); }
static inline void commlog_mime_free(void *pointer) { g_free(pointer); }

static inline int commlog_mime_is_message(GMimeObject *o) { return GMIME_IS_MESSAGE(o); }
static inline int commlog_mime_is_multipart(GMimeObject *o) { return GMIME_IS_MULTIPART(o); }
static inline int commlog_mime_is_message_part(GMimeObject *o) { return GMIME_IS_MESSAGE_PART(o); }
static inline int commlog_mime_is_part(GMimeObject *o) { return GMIME_IS_PART(o); }
static inline int commlog_mime_is_text_part(GMimeObject *o) { return GMIME_IS_TEXT_PART(o); }
static inline int commlog_mime_is_encrypted(GMimeObject *o) {
    return GMIME_IS_MULTIPART_ENCRYPTED(o) || GMIME_IS_APPLICATION_PKCS7_MIME(o);
}

/* message fields ------------------------------------------------------------------------------------- */

static inline const char *commlog_mime_subject(GMimeObject *m) { return g_mime_message_get_subject(GMIME_MESSAGE(m)); }
static inline const char *commlog_mime_message_id(GMimeObject *m) { return g_mime_message_get_message_id(GMIME_MESSAGE(m)); }
static inline GMimeObject *commlog_mime_body(GMimeObject *m) { return g_mime_message_get_mime_part(GMIME_MESSAGE(m)); }

/* Date header as Unix seconds; *present is 0 when missing or unreadable. */
static inline int64_t commlog_mime_date(GMimeObject *m, int *present) {
    GDateTime *date = g_mime_message_get_date(GMIME_MESSAGE(m));
    *present = date != NULL;
    return date != NULL ? g_date_time_to_unix(date) : 0;
}

/* From (0), To (2), Cc (3), Bcc (4): mailboxes with decoded names; groups are flattened, an empty one is
   given as its name and ":;". */
static inline void commlog_mime_walk_addresses(InternetAddressList *list, commlog_mime_address_cb callback, void *context) {
    if (list == NULL) return;
    int count = internet_address_list_length(list);
    for (int i = 0; i < count; i++) {
        InternetAddress *address = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
            callback(context, internet_address_get_name(address), internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)));
        } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
            InternetAddressList *members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address));
            if (members != NULL && internet_address_list_length(members) > 0) {
                commlog_mime_walk_addresses(members, callback, context);
            } else {
                /* An empty group (undisclosed-recipients:;) is kept as written. */
                const char *name = internet_address_get_name(address);
                char *written = g_strdup_printf("%s:;", name != NULL ? name : "");
                callback(context, NULL, written);
                g_free(written);
            }
        }
    }
}

static inline void commlog_mime_addresses(GMimeObject *m, int which, commlog_mime_address_cb callback, void *context) {
    GMimeAddressType type = which == 0 ? GMIME_ADDRESS_TYPE_FROM : which == 2 ? GMIME_ADDRESS_TYPE_TO
        : which == 3 ? GMIME_ADDRESS_TYPE_CC : which == 4 ? GMIME_ADDRESS_TYPE_BCC : GMIME_ADDRESS_TYPE_SENDER;
    commlog_mime_walk_addresses(g_mime_message_get_addresses(GMIME_MESSAGE(m), type), callback, context);
}

/* The message ids of a header such as In-Reply-To or References, without angle brackets. */
static inline void commlog_mime_references(GMimeObject *m, const char *header, commlog_mime_string_cb callback, void *context) {
    const char *value = g_mime_object_get_header(m, header);
    if (value == NULL) return;
    GMimeReferences *references = g_mime_references_parse(NULL, value);
    if (references == NULL) return;
    int count = g_mime_references_length(references);
    for (int i = 0; i < count; i++) callback(context, g_mime_references_get_message_id(references, i));
    g_mime_references_free(references);
}

/* The number of headers: 0 for something that is not a message at all. */
static inline int commlog_mime_header_count(GMimeObject *o) { return g_mime_header_list_get_count(g_mime_object_get_header_list(o)); }

/* parts ------------------------------------------------------------------------------------------------ */

static inline int commlog_mime_multipart_count(GMimeObject *o) { return g_mime_multipart_get_count(GMIME_MULTIPART(o)); }
static inline GMimeObject *commlog_mime_multipart_part(GMimeObject *o, int index) { return g_mime_multipart_get_part(GMIME_MULTIPART(o), index); }
static inline GMimeObject *commlog_mime_message_part_message(GMimeObject *o) {
    GMimeMessage *message = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
    return message != NULL ? GMIME_OBJECT(message) : NULL;
}

/* "text/plain", lower case; g_free it. */
static inline char *commlog_mime_type(GMimeObject *o) {
    GMimeContentType *type = g_mime_object_get_content_type(o);
    if (type == NULL) return g_strdup("application/octet-stream");
    char *mime = g_mime_content_type_get_mime_type(type);
    char *lower = g_ascii_strdown(mime, -1);
    g_free(mime);
    return lower;
}

/* "attachment", "inline" or NULL. */
static inline const char *commlog_mime_disposition(GMimeObject *o) { return g_mime_object_get_disposition(o); }

/* The decoded file name (RFC 2231 and RFC 2047), Content-Disposition filename or Content-Type name. */
static inline const char *commlog_mime_filename(GMimeObject *o) {
    return GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o)) : NULL;
}

/* The text of a text part converted to UTF-8 from its charset; g_free it. */
static inline char *commlog_mime_text(GMimeObject *o) { return g_mime_text_part_get_text(GMIME_TEXT_PART(o)); }

static inline unsigned char *commlog_mime_take_stream(GMimeStream *stream, size_t *length) {
    GByteArray *array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
    *length = array->len;
    unsigned char *copy = g_malloc(array->len > 0 ? array->len : 1);
    if (array->len > 0) memcpy(copy, array->data, array->len);
    g_object_unref(stream);
    return copy;
}

/* The content of a leaf part with its transfer encoding (base64, quoted-printable) undone; g_free it. */
static inline unsigned char *commlog_mime_part_content(GMimeObject *o, size_t *length) {
    GMimeStream *stream = g_mime_stream_mem_new();
    GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(o));
    if (content != NULL) g_mime_data_wrapper_write_to_stream(content, stream);
    return commlog_mime_take_stream(stream, length);
}

/* The object as it would be written out (a forwarded message, an encrypted part kept raw); g_free it. */
static inline unsigned char *commlog_mime_object_bytes(GMimeObject *o, size_t *length) {
    GMimeStream *stream = g_mime_stream_mem_new();
    g_mime_object_write_to_stream(o, NULL, stream);
    return commlog_mime_take_stream(stream, length);
}

#endif
