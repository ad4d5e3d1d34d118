// SPDX-License-Identifier: GPL-3.0-or-later
// Names for gloox's stream error and connection error enums, for logs.
#pragma once

#include <gloox/gloox.h>

#include <string_view>

namespace salon::xmpp {

constexpr std::string_view stream_error_name(gloox::StreamError e) {
  switch (e) {
    case gloox::StreamErrorBadFormat: return "bad-format";
    case gloox::StreamErrorBadNamespacePrefix: return "bad-namespace-prefix";
    case gloox::StreamErrorConflict: return "conflict";
    case gloox::StreamErrorConnectionTimeout: return "connection-timeout";
    case gloox::StreamErrorHostGone: return "host-gone";
    case gloox::StreamErrorHostUnknown: return "host-unknown";
    case gloox::StreamErrorImproperAddressing: return "improper-addressing";
    case gloox::StreamErrorInternalServerError: return "internal-server-error";
    case gloox::StreamErrorInvalidFrom: return "invalid-from";
    case gloox::StreamErrorInvalidId: return "invalid-id";
    case gloox::StreamErrorInvalidNamespace: return "invalid-namespace";
    case gloox::StreamErrorInvalidXml: return "invalid-xml";
    case gloox::StreamErrorNotAuthorized: return "not-authorized";
    case gloox::StreamErrorPolicyViolation: return "policy-violation";
    case gloox::StreamErrorRemoteConnectionFailed: return "remote-connection-failed";
    case gloox::StreamErrorResourceConstraint: return "resource-constraint";
    case gloox::StreamErrorRestrictedXml: return "restricted-xml";
    case gloox::StreamErrorSeeOtherHost: return "see-other-host";
    case gloox::StreamErrorSystemShutdown: return "system-shutdown";
    case gloox::StreamErrorUndefinedCondition: return "undefined-condition";
    case gloox::StreamErrorUnsupportedEncoding: return "unsupported-encoding";
    case gloox::StreamErrorUnsupportedStanzaType: return "unsupported-stanza-type";
    case gloox::StreamErrorUnsupportedVersion: return "unsupported-version";
    case gloox::StreamErrorXmlNotWellFormed: return "xml-not-well-formed";
    default: return "undefined-condition";
  }
}

constexpr std::string_view connection_error_name(gloox::ConnectionError e) {
  switch (e) {
    case gloox::ConnNoError: return "no error";
    case gloox::ConnStreamError: return "stream error";
    case gloox::ConnStreamVersionError: return "unsupported stream version";
    case gloox::ConnStreamClosed: return "stream closed by the server";
    case gloox::ConnProxyAuthRequired: return "proxy authentication required";
    case gloox::ConnProxyAuthFailed: return "proxy authentication failed";
    case gloox::ConnProxyNoSupportedAuth: return "no supported proxy authentication";
    case gloox::ConnIoError: return "I/O error";
    case gloox::ConnParseError: return "XML parse error";
    case gloox::ConnConnectionRefused: return "connection refused";
    case gloox::ConnDnsError: return "DNS error";
    case gloox::ConnOutOfMemory: return "out of memory";
    case gloox::ConnNoSupportedAuth: return "no supported authentication";
    case gloox::ConnTlsFailed: return "TLS failed";
    case gloox::ConnTlsNotAvailable: return "TLS not available";
    case gloox::ConnCompressionFailed: return "compression failed";
    case gloox::ConnAuthenticationFailed: return "authentication failed";
    case gloox::ConnUserDisconnected: return "disconnected locally";
    case gloox::ConnNotConnected: return "not connected";
    default: return "unknown connection error";
  }
}

}  // namespace salon::xmpp
