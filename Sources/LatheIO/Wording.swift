/// Counts in words, as every message, report and panel writes them.
public enum Wording {
  /// "1 step", "3 steps"; `plural` for nouns that do not just take an "s".
  public static func count(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
  }
}
