import EngramSupport
import Foundation
import Testing
import EngramMemory

@Suite("Background work")
struct BackgroundWorkTests {
    @Test("following the record never waits behind an index build: the lanes run on threads of their own")
    func lanesDoNotWaitForEachOther() async throws {
        let work = BackgroundWork(label: "test.background")
        let release = DispatchSemaphore(value: 0)
        let followed = Locked(false)
        // An index build that holds its lane (as a large graph rebuild does for seconds).
        work.start(on: .indexing) { release.wait() }
        work.start(on: .following) { followed.withLock { $0 = true } }
        let deadline = ContinuousClock.now + .seconds(10)
        while !followed.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(followed.withLock { $0 })
        release.signal()
        work.closeAndWait()
    }
}
