import Foundation
import Testing
import EngramMemory

@Suite("Change signal")
struct ChangeSignalTests {
    func timed(_ body: () async -> Void) async -> Duration {
        let start = ContinuousClock.now
        await body()
        return ContinuousClock.now - start
    }

    @Test("a change that comes while a store is not waiting ends its next wait at once; its own changes never wake it; a closed store is forgotten")
    func keptAndFiltered() async {
        let signal = ChangeSignal()
        await signal.wait(timeout: .milliseconds(1), ignoring: "me")  // "me" follows from now on
        // Another node commits while "me" is reading the feed (not waiting).
        signal.fire(from: "other")
        #expect(await timed { await signal.wait(timeout: .seconds(10), ignoring: "me") } < .seconds(2))
        // Kept once: the wait after that sleeps until the timeout.
        #expect(await timed { await signal.wait(timeout: .milliseconds(300), ignoring: "me") } >= .milliseconds(300))
        // Its own writes do not wake it, waiting or not.
        signal.fire(from: "me")
        #expect(await timed { await signal.wait(timeout: .milliseconds(300), ignoring: "me") } >= .milliseconds(300))
        // A waiting store is woken by another's change, and by a reconnection (no writer).
        for writer in ["other", nil] as [String?] {
            async let woken = timed { await signal.wait(timeout: .seconds(10), ignoring: "me") }
            try? await Task.sleep(for: .milliseconds(100))
            signal.fire(from: writer)
            #expect(await woken < .seconds(2))
        }
        // A store that closed is forgotten: nothing is kept for it any more.
        signal.forget("me")
        signal.fire(from: "other")
        #expect(await timed { await signal.wait(timeout: .milliseconds(300), ignoring: "me") } >= .milliseconds(300))
    }
}
