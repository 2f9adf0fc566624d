/*  no_gssapi_norm — what libzmq's archive asks of GSSAPI (Kerberos) and NORM, answered
    when libzmq is linked statically (CMakeLists.txt): neither is available.

    libzmq reaches these only for a socket with a GSSAPI option set or an endpoint of
    the norm:// transport. mqtree sets no GSSAPI option (its links use CURVE or none)
    and binds and connects only ipc:// and tcp://, so none of them is called; if one
    ever were, it fails the way the library reports a failure (an invalid handle, false,
    GSS_S_FAILURE) and libzmq refuses that socket's connection, never an abort.

    Linking the shared libzmq instead costs every worker fifteen libraries (it, krb5,
    gssapi, norm, pgm, sodium, stdc++, ...): on this machine about 3 ms more per spawn
    and two thirds more time to end a tree (doc/performance.md, Linking).
    The declarations are deliberately loose: a caller's arguments are ignored, and a
    zero or a status in the return register is all any caller reads. */
#include <stdint.h>

//  NORM: every call returns 0, which is NORM_*_INVALID for the handle makers, false
//  for the predicates and the stream calls, and nothing for the void ones.
#define NO_NORM(name) \
    uintptr_t name(void); \
    uintptr_t name(void) { return 0; }

NO_NORM(NormCreateInstance)
NO_NORM(NormCreateSession)
NO_NORM(NormDestroyInstance)
NO_NORM(NormDestroySession)
NO_NORM(NormGetDescriptor)
NO_NORM(NormGetNextEvent)
NO_NORM(NormGetRandomSessionId)
NO_NORM(NormIsUnicastAddress)
NO_NORM(NormNodeDelete)
NO_NORM(NormObjectGetType)
NO_NORM(NormObjectGetUserData)
NO_NORM(NormObjectSetUserData)
NO_NORM(NormSetCongestionControl)
NO_NORM(NormSetDefaultSyncPolicy)
NO_NORM(NormSetDefaultUnicastNack)
NO_NORM(NormSetLoopback)
NO_NORM(NormSetMulticastInterface)
NO_NORM(NormSetRxPortReuse)
NO_NORM(NormSetTTL)
NO_NORM(NormStartReceiver)
NO_NORM(NormStartSender)
NO_NORM(NormStopInstance)
NO_NORM(NormStopReceiver)
NO_NORM(NormStopSender)
NO_NORM(NormStreamFlush)
NO_NORM(NormStreamOpen)
NO_NORM(NormStreamRead)
NO_NORM(NormStreamSeekMsgStart)
NO_NORM(NormStreamWrite)

const uintptr_t NORM_INSTANCE_INVALID = 0;
const uintptr_t NORM_SESSION_INVALID = 0;
const uintptr_t NORM_OBJECT_INVALID = 0;
const uint32_t NORM_NODE_ANY = UINT32_MAX;

//  GSSAPI: every call fails with GSS_S_FAILURE (a routine error, RFC 2744).
#define NO_GSS(name) \
    uint32_t name(void); \
    uint32_t name(void) { return 13u << 16; }

NO_GSS(gss_accept_sec_context)
NO_GSS(gss_acquire_cred)
NO_GSS(gss_delete_sec_context)
NO_GSS(gss_display_name)
NO_GSS(gss_import_name)
NO_GSS(gss_init_sec_context)
NO_GSS(gss_release_buffer)
NO_GSS(gss_release_cred)
NO_GSS(gss_release_name)
NO_GSS(gss_unwrap)
NO_GSS(gss_wrap)

//  The name types libzmq passes to gss_import_name: never read here.
const void *GSS_C_NT_HOSTBASED_SERVICE = 0;
const void *GSS_C_NT_USER_NAME = 0;
