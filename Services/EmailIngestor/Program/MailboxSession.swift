import CommlogDomain
import CommlogRuntime
import Foundation
import IMAP
import Integrations
import Logging
import Messaging
import Metrics
import Tracing

/// Imports one mailbox while this replica holds its lease: connects, syncs INBOX and the Sent folder,
/// waits with IDLE (or sleeps) until the next check, and backs off after failures.
struct MailboxSession {
    let mailbox: Mailbox
    let store: MailboxStore
    let publisher: AMQPConnection
    let sealer: SecretSealer
    let configuration: IngestorConfiguration
    let status: MailboxStatusBoard
    let logger: Logger
    /// Access tokens of a mailbox whose secret is an OAuth2 refresh grant.
    let tokens = OAuth2AccessTokens()

    private var holder: String { configuration.instanceID }

    /// Runs until the lease is lost, the mailbox is disabled, or the task is cancelled.
    func run() async {
        let connection = IMAPConnection(name: "imap-\(mailbox.label.prefix(8))")
        await loop(connection)
        await connection.close()
        // A cancelled session (the replica stopping) cannot query; the poller releases its leases afterwards.
        if !Task.isCancelled { await store.release(mailbox.leaseName, holder: holder) }
    }

    private func loop(_ connection: IMAPConnection) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                guard try await store.claim(mailbox.leaseName, holder: holder, ttl: configuration.leaseTTL) else {
                    logger.info("mailbox lease taken by another replica")
                    return
                }
                guard try await store.isEnabled(mailbox) else {
                    logger.info("mailbox disabled, stopping")
                    return
                }
                try await cycle(connection)
                failures = 0
                try await store.recordSuccess(mailbox)
                status.succeeded(mailbox)
                try await wait(connection)
            } catch is CancellationError {
                break
            } catch is LeaseLost {
                logger.notice("mailbox lease lost to another replica during a sync, stopping")
                return
            } catch {
                failures += 1
                let message = "\(error)"
                logger.warning("mailbox check failed", metadata: ["error": "\(message)", "failures": "\(failures)"])
                let loginRefused = (error as? IMAPError)?.isAuthentication == true
                // A token refused at login was revoked before it expired: the next attempt fetches another.
                if loginRefused { tokens.forget() }
                let refused = loginRefused || (error as? OAuth2RefreshError)?.refused == true
                status.failed(mailbox, kind: refused ? "authentication" : "connection")
                try? await store.recordError(message, mailbox)
                await connection.close()
                if await !backOff(failures: failures) { break }
            }
        }
    }

    /// Waits 1 s, 2 s, 4 s … up to the configured maximum, renewing the lease; false when it was lost.
    private func backOff(failures: Int) async -> Bool {
        let delay = min(configuration.maximumBackoff, .seconds(1 << min(failures - 1, 16)))
        let until = ContinuousClock.now + delay
        while ContinuousClock.now < until {
            do {
                try await Task.sleep(for: min(configuration.waitSlice, until - ContinuousClock.now))
                guard try await store.claim(mailbox.leaseName, holder: holder, ttl: configuration.leaseTTL) else { return false }
            } catch {
                return !Task.isCancelled
            }
        }
        return true
    }

    /// One check: (re)connect if needed, find the folders, sync each.
    private func cycle(_ connection: IMAPConnection) async throws {
        if await !connection.isOpen() {
            try await connection.open(try await account())
            logger.debug("mailbox connected")
        }
        let progress = try await store.progress(of: mailbox)
        for folder in try await folders(connection) {
            // One span per folder synced: the messages it publishes carry its trace to their consumer.
            try await withSpan("mailbox sync", ofKind: .client) { span in
                span.attributes["commlog.organisation_id"] = mailbox.organisationID
                span.attributes["commlog.mailbox_id"] = "\(mailbox.id)"
                span.attributes["commlog.folder"] = folder.name
                try await sync(folder, from: progress[folder.name], connection)
            }
        }
    }

    /// The server account, with the secret as stored now opened just for the login (for a refresh grant: a
    /// current access token). Read at every login, so that a secret replaced with `commlog mailbox secret`
    /// takes effect at the next attempt, not at the next restart.
    private func account() async throws -> IMAPAccount {
        let stored = try await store.secret(of: mailbox)
        let context = SecretSealer.Context.mailbox(organisation: mailbox.organisationID, id: mailbox.id)
        let opened = try sealer.open(stored.ciphertext, keyID: stored.keyID, for: context)
        let secret = opened.secret
        if opened.needsReseal {
            // Sealed with an older key, or before secrets were bound to their mailbox: stored again, bound.
            let sealed = try sealer.seal(secret, for: context)
            try await store.replaceSecret(of: mailbox, ciphertext: sealed.ciphertext, keyID: sealed.keyID)
        }
        let credential: IMAPAccount.Credential
        switch stored.kind {
        case .password:
            credential = .password(secret)
        case .xoauth2:
            credential = .oauth2Token(secret)
        case .oauth2:
            let (mailbox, store, sealer) = (mailbox, store, sealer)
            credential = .oauth2Token(try await tokens.token(stored: try OAuth2RefreshGrant(opened: secret)) { rotated in
                let sealed = try sealer.seal(try rotated.encoded(), for: context)
                try await store.replaceSecret(of: mailbox, ciphertext: sealed.ciphertext, keyID: sealed.keyID)
            })
        }
        return IMAPAccount(
            host: mailbox.host, port: mailbox.port, tls: mailbox.tls, user: mailbox.username, credential: credential, trust: configuration.trust
        )
    }

    struct Folder: Sendable {
        let name: String
        let direction: Direction
    }

    /// INBOX (inbound) and the folder flagged `\Sent` (outbound), found again on every check since users
    /// rename folders; a Sent folder without the flag is found by its usual names.
    private func folders(_ connection: IMAPConnection) async throws -> [Folder] {
        if let inbound = mailbox.inboundFolder, let outbound = mailbox.outboundFolder {
            return [Folder(name: inbound, direction: .inbound), Folder(name: outbound, direction: .outbound)]
        }
        let listed = try await connection.perform { try $0.folders() }.filter(\.isSelectable)
        var result = [Folder(name: mailbox.inboundFolder ?? "INBOX", direction: .inbound)]
        if let outbound = mailbox.outboundFolder ?? SentFolder.find(in: listed) {
            result.append(Folder(name: outbound, direction: .outbound))
        }
        return result
    }

    /// Fetches what is new in `folder` in bounded batches; progress advances only after the broker confirmed.
    private func sync(_ folder: Folder, from stored: FolderProgress?, _ connection: IMAPConnection) async throws {
        let name = folder.name
        let selected = try await connection.perform { try $0.select(name) }
        var progress = stored ?? FolderProgress(uidValidity: nil, lastUID: 0, highestModSeq: nil)
        var firstSync = progress.uidValidity == nil
        if let validity = progress.uidValidity, validity != selected.uidValidity {
            // The server renumbered the folder: fetch it again; the log keeps one entry per Message-ID.
            logger.notice("UIDVALIDITY changed, resyncing folder", metadata: ["folder": "\(name)", "old": "\(validity)", "new": "\(selected.uidValidity)"])
            progress = FolderProgress(uidValidity: nil, lastUID: 0, highestModSeq: nil)
            firstSync = true
        }
        progress.uidValidity = selected.uidValidity
        let direction = folder.direction.rawValue
        if selected.uidNext > 0, progress.lastUID + 1 >= selected.uidNext, !firstSync {
            progress.highestModSeq = selected.highestModSeq
            try await store.save(progress, folder: name, direction: direction, exists: selected.exists, of: mailbox)
            return
        }
        let since = firstSync ? mailbox.since : nil
        let start = progress.lastUID + 1
        let uids = try await connection.perform { try $0.uids(from: start, since: since) }
        var index = 0
        while index < uids.count {
            try Task.checkCancellation()
            let chunk = Array(uids[index..<min(index + configuration.fetchBatch, uids.count)])
            index += chunk.count
            // Sizes first: a message larger than the broker takes could never be published, and the folder would
            // never move past it. Such a message is fetched (and logged) by its headers alone.
            let limit = configuration.maximumMessageBytes
            let sizes = try await connection.perform { try $0.sizes(chunk) }
            let tooLarge = Set(chunk.filter { (sizes[$0] ?? 0) > limit })
            let whole = try await connection.perform { try $0.fetch(chunk.filter { !tooLarge.contains($0) }) }
            let headers = try await connection.perform { try $0.fetch(chunk.filter { tooLarge.contains($0) }, headersOnly: true) }
            let messages = (whole + headers).sorted { $0.uid < $1.uid }
            let outgoing = messages.map { message in
                FetchedMessage(
                    organisationID: mailbox.organisationID, mailboxID: mailbox.id, mailboxAddress: mailbox.address,
                    folder: name, direction: folder.direction, uidValidity: selected.uidValidity, uid: message.uid,
                    internalDate: message.internalDate, raw: message.raw,
                    mailboxAliases: mailbox.aliases, omittedBytes: tooLarge.contains(message.uid) ? sizes[message.uid] : nil
                ).outgoing
            }
            if !tooLarge.isEmpty {
                logger.warning("messages larger than COMMLOG_MAIL_MAX_MESSAGE_BYTES logged from their headers", metadata: [
                    "folder": "\(name)", "uids": "\(tooLarge.sorted())", "limit": "\(limit)",
                ])
            }
            try await publisher.publish(outgoing)
            progress.lastUID = max(progress.lastUID, chunk.last ?? 0)
            try await store.save(progress, folder: name, direction: direction, exists: selected.exists, of: mailbox)
            // A long first sync outlasts the lease: renew it with every batch, and stop if another replica has it.
            guard try await store.claim(mailbox.leaseName, holder: holder, ttl: configuration.leaseTTL) else { throw LeaseLost() }
            Counter(label: "commlog_mailbox_messages_fetched_total", dimensions: [("mailbox", mailbox.label), ("direction", direction)]).increment(by: messages.count)
        }
        // SEARCH ran after SELECT, so every UID below UIDNEXT that exists was in `uids`: the next check can
        // start at UIDNEXT even when the last messages were expunged (or left out by `since`).
        if selected.uidNext > 0 { progress.lastUID = max(progress.lastUID, selected.uidNext - 1) }
        progress.highestModSeq = selected.highestModSeq
        try await store.save(progress, folder: name, direction: direction, exists: selected.exists, of: mailbox)
    }

    /// IDLE on INBOX where the server offers it, else sleep; at most one wait slice, so the lease is renewed in time.
    private func wait(_ connection: IMAPConnection) async throws {
        let slice = configuration.waitSlice
        if configuration.useIdle, let inbound = try await folders(connection).first(where: { $0.direction == .inbound }) {
            if try await connection.idle(in: inbound.name, timeout: slice) != nil {
                try Task.checkCancellation()
                return
            }
        }
        try await Task.sleep(for: slice)
    }
}

/// Another replica took the mailbox over (this one was too slow to renew its lease).
struct LeaseLost: Error {}
