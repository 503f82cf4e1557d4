import LatheTUI

/// `lathe tutorial --json`: every tutorial with the learner's progress, and those that cannot be read.
struct TutorialListReport: Encodable {
  struct Entry: Encodable {
    var name: String
    var title: String?
    var summary: String?
    var minutes: Int?
    var steps: Int?
    /// new, in-progress or completed; absent when the file cannot be read.
    var state: String?
    /// The step the learner is at, counting from 1 (in-progress only).
    var step: Int?
    /// Why the file cannot be read.
    var error: String?
  }

  var kind = "tutorials"
  var tutorials: [Entry]

  init(_ entries: [(name: String, tutorial: Result<Tutorial, TutorialFileError>)], progress: TutorialProgress) {
    tutorials = entries.map { entry in
      switch entry.tutorial {
      case .success(let tutorial):
        let saved = progress.tutorials[tutorial.name]
        let started = (saved?.step ?? 0) > 0
        let state = saved?.completed == true ? "completed" : started ? "in-progress" : "new"
        return Entry(
          name: entry.name, title: tutorial.title, summary: tutorial.summary, minutes: tutorial.minutes,
          steps: tutorial.steps.count, state: state, step: state == "in-progress" ? saved!.step + 1 : nil)
      case .failure(let error):
        return Entry(name: entry.name, error: "\(error)")
      }
    }
  }
}
