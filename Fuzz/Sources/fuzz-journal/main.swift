import FuzzSupport
import LatheSearch

// A study journal (one JSON event per line), read through StudyJournal from a file as
// `lathe search --resume` does, then made into a study and ranked.
private let url = FuzzInput.scratchURL(extension: "jsonl")
private let objectives = [Objective(.maximize, "accuracy"), Objective(.minimize, "size_bytes")]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.write(data, size, to: url)
  let events: [JournalEvent]
  do {
    events = try StudyJournal(url: url).read()
  } catch {
    FuzzInput.checkOneLine(error)
    return 0
  }
  for objectives in [Array(objectives.prefix(1)), objectives] {
    let study = Study(events: events, objectives: objectives)
    _ = study.best
    _ = study.paretoFront
    _ = study.bestSoFar
    _ = study.observations(dimensions: 2)
  }
  return 0
}
