import Foundation
import LatheCompress
import LatheIO

/// `e`: the pipeline as a list of steps on the left and the selected step's form on the right.
/// Values are checked against the technique's parameter descriptors as they are entered;
/// nothing reaches the session until `s` applies the whole list. A choice or yes/no field
/// cycles through its values with left/right or space; enter types any field's value.
public final class StepEditorScreen: Screen {
  enum Mode: Equatable {
    case list
    case form
    /// Typing into form field `field`.
    case editing(field: Int, TextField)
    /// Choosing a technique for a new step.
    case picking(Int)
    /// Typing the file to write the pipeline to.
    case savingPath(TextField)
  }

  private(set) var specs: [StepSpec]
  private let techniques: [TechniqueDescriptor]
  private(set) var selected = 0
  private(set) var field = 0
  private(set) var mode: Mode = .list
  private(set) var error: String?
  private(set) var dirty = false
  /// Esc with unapplied changes asks once; a second Esc leaves.
  private var confirmingLeave = false

  public init(app: WorkbenchApp) {
    specs = app.session.pipeline
    techniques = app.session.techniques
  }

  public var title: String { "edit pipeline" + (dirty ? " *" : "") }

  public var capturesText: Bool {
    switch mode {
    case .editing, .savingPath: return true
    default: return false
    }
  }

  public var bindings: [KeyBinding] { Self.bindings(for: mode, onChoice: mode == .form && currentChoices != nil) }

  /// What `?` lists for the editor: the keys of the step list and of the form.
  static var helpBindings: [KeyBinding] { bindings(for: .list) + bindings(for: .form, onChoice: true) }

  /// The keys of each mode; `onChoice`: the form's field is a choice or yes/no, which left,
  /// right and space cycle (elsewhere left goes back to the list). Typing modes (a field, the
  /// file name) give every other key to the text; picking a technique ignores the keys it does
  /// not list, so none reaches the app.
  static func bindings(for mode: Mode, onChoice: Bool = false) -> [KeyBinding] {
    switch mode {
    case .list:
      return [
        KeyBinding([Key("a")], hint: ("a", "add"), help: ("a / d", "add / delete step")),
        KeyBinding([Key("d"), .delete], hint: ("d", "delete")),
        KeyBinding([Key("J"), Key("K")], hint: ("J/K", "move"), help: ("J / K", "move step down / up")),
        KeyBinding([.tab, .enter, .right, Key("l")], hint: ("tab", "form"), help: ("tab", "list / form")),
        KeyBinding([Key("s")], hint: ("s", "apply"), help: ("s", "apply to session")),
        KeyBinding([Key("w")], hint: ("w", "write"), help: ("w", "write pipeline file")),
        KeyBinding([.escape], hint: ("esc", "back")), KeyBinding(KeyBinding.verticalKeys),
      ]
    case .form:
      let choosing =
        onChoice
        ? [KeyBinding([.left, .right, Key(" ")], hint: ("←/→", "choose"), help: ("← / → / space", "cycle a choice"))]
        : []
      return [KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "field"))] + choosing + [
        KeyBinding([.enter], hint: ("enter", "edit"), help: ("enter", "edit field")),
        KeyBinding([.tab, Key("h")] + (onChoice ? [] : [.left]), hint: ("tab", "list")),
        KeyBinding([.escape], hint: ("esc", "back")),
        KeyBinding([Key("s")], hint: ("s", "apply")),
      ]
    case .editing:
      return [KeyBinding([.enter], hint: ("enter", "accept")), KeyBinding([.escape], hint: ("esc", "cancel"))]
    case .picking:
      return [
        KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "technique")), KeyBinding([.enter], hint: ("enter", "add")),
        KeyBinding([.escape], hint: ("esc", "cancel")),
      ]
    case .savingPath:
      return [KeyBinding([.enter], hint: ("enter", "write")), KeyBinding([.escape], hint: ("esc", "cancel"))]
    }
  }

  private func technique(_ name: String) -> TechniqueDescriptor? { techniques.first { $0.name == name } }

  /// The form field's parameter, when the form shows one (field 0 is the step's name).
  private var currentParameter: ParameterDescriptor? {
    guard selected < specs.count, field > 0, let parameters = technique(specs[selected].technique)?.parameters,
      field - 1 < parameters.count
    else { return nil }
    return parameters[field - 1]
  }

  /// The values the current field cycles through: a choice's options, or false and true.
  private var currentChoices: [ParameterValue]? {
    switch currentParameter?.kind {
    case .choice(let options)?: return options.map { .string($0) }
    case .bool?: return [.bool(false), .bool(true)]
    default: return nil
    }
  }

  /// Moves the current choice field `step` values on, wrapping around.
  private func cycleChoice(by step: Int) {
    guard let parameter = currentParameter, let choices = currentChoices, !choices.isEmpty else { return }
    let value = specs[selected][parameter.key] ?? parameter.defaultValue
    // A value that is none of the choices (a typo in the file) starts the cycle at either end.
    let index = choices.firstIndex { $0 == value } ?? (step > 0 ? -1 : 0)
    specs[selected].set(parameter.key, to: choices[((index + step) % choices.count + choices.count) % choices.count])
    dirty = true
  }

  /// Form rows for a spec: its name, then one per technique parameter.
  private func fields(_ spec: StepSpec) -> [(label: String, value: String, help: String)] {
    var rows = [(label: "name", value: spec.name, help: "shown in the Pipeline panel")]
    for parameter in technique(spec.technique)?.parameters ?? [] {
      let value = spec[parameter.key] ?? parameter.defaultValue
      rows.append((parameter.key, parameter.text(of: value), parameter.help + Self.describe(parameter.kind)))
    }
    return rows
  }

  private static func describe(_ kind: ParameterDescriptor.Kind) -> String {
    switch kind {
    case .int(let range): return " (\(range.lowerBound)...\(range.upperBound))"
    case .float(let range): return " (\(Format.axis(range.lowerBound))...\(Format.axis(range.upperBound)))"
    case .choice(let choices): return " (" + choices.joined(separator: "|") + ")"
    case .bool: return " (enter or ←/→ toggles)"
    case .text, .list, .perLayerFloat, .perLayerInt: return ""
    }
  }

  // MARK: drawing

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let rects = Layout.arrange(
      .row([.panel("steps", .weight(2)), .panel("form", .weight(3))], .weight(1)),
      in: Rect(x: 0, y: 0, width: canvas.width, height: canvas.height))
    let listFocused = mode == .list || { if case .picking = mode { return true } else { return false } }()
    let list = Panel.draw(
      canvas.sub(rects["steps"]!), title: "Steps", focused: listFocused, context: context, note: "\(specs.count)")
    if case .picking(let choice) = mode {
      list.text(1, 0, "Add which technique?", context.style(.title, .bold))
      for (index, technique) in techniques.enumerated() where index + 1 < list.height {
        let style =
          index == choice ? context.theme.style(.selectedForeground, on: .selectedBackground, .bold) : context.text
        list.fill(Rect(x: 0, y: index + 1, width: list.width, height: 1), " ", index == choice ? style : context.text)
        list.text(1, index + 1, technique.name, style)
        list.text(
          22, index + 1, technique.summary, index == choice ? style : context.style(.inactive),
          ellipsis: context.glyphs.ellipsis)
      }
    } else if specs.isEmpty {
      list.text(1, 0, "No steps. Press a to add one.", context.style(.inactive))
    } else {
      let rows = specs.enumerated().map { index, spec -> [TableCell] in
        [
          .text("\(index + 1)", .inactive), .text(spec.name),
          .text(spec.technique, technique(spec.technique) == nil ? .error : .inactive),
        ]
      }
      Table(
        columns: [
          TableColumn("#", .fixed(2), .right), TableColumn("step", .weight(1)), TableColumn("technique", .weight(1)),
        ],
        rows: rows, selected: selected
      ).draw(list, context: context, focused: mode == .list)
    }
    let formFocused = mode == .form || { if case .editing = mode { return true } else { return false } }()
    let form = Panel.draw(canvas.sub(rects["form"]!), title: "Step", focused: formFocused, context: context)
    if selected < specs.count {
      let spec = specs[selected]
      let summary = technique(spec.technique)?.summary ?? "unknown technique \(spec.technique)"
      form.text(1, 0, "\(spec.technique): \(summary)", context.style(.title), ellipsis: context.glyphs.ellipsis)
      let labelWidth = 18
      for (index, row) in fields(spec).enumerated() {
        let y = 2 + index * 2
        guard y + 1 < form.height else { break }
        let isCurrent = formFocused && index == field
        form.text(1, y, row.label, context.style(isCurrent ? .highlight : .graphText, isCurrent ? .bold : []))
        if case .editing(let editing, let text) = mode, editing == index {
          text.draw(form, x: labelWidth, y: y, width: form.width - labelWidth - 1, context: context)
        } else if isCurrent, mode == .form, let choices = currentChoices {
          drawChoices(form, x: labelWidth, y: y, current: row.value, choices: choices, context: context)
        } else {
          form.text(labelWidth, y, row.value, isCurrent ? context.style(.selectedForeground, .bold) : context.text)
        }
        form.text(labelWidth, y + 1, row.help, context.style(.inactive), ellipsis: context.glyphs.ellipsis)
      }
    }
    if case .savingPath(let path) = mode {
      form.text(1, form.height - 2, "write pipeline to:", context.style(.title))
      path.draw(form, x: 20, y: form.height - 2, width: form.width - 21, context: context)
    }
    if let error {
      form.text(1, form.height - 1, error, context.style(.error, .bold), ellipsis: context.glyphs.ellipsis)
    }
  }

  /// A choice field with focus: every option in a row, the current one highlighted between
  /// arrows, so left/right show where they go.
  private func drawChoices(
    _ canvas: Canvas, x: Int, y: Int, current: String, choices: [ParameterValue], context: DrawContext
  ) {
    let ascii = !context.glyphs.isUnicode
    var column = canvas.text(x, y, ascii ? "< " : "◂ ", context.style(.highlight))
    for choice in choices {
      let text = choice.description
      let chosen = text == current
      column =
        canvas.text(
          column, y, text, chosen ? context.style(.selectedForeground, .bold) : context.style(.inactive),
          maxWidth: max(0, canvas.width - column - 2)) + 2
    }
    canvas.text(column - 1, y, ascii ? ">" : "▸", context.style(.highlight))
  }

  // MARK: keys

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch mode {
    case .list: return handleList(key, app: app)
    case .form: return handleForm(key, app: app)
    case .editing(let index, var text):
      switch key {
      case .escape:
        mode = .form
        error = nil
      case .enter: commit(field: index, text: text.text)
      default:
        if text.handle(key) { mode = .editing(field: index, text) }
      }
      return .handled
    case .picking(let choice):
      switch key {
      case .escape: mode = .list
      case .enter:
        guard choice < techniques.count else { return .handled }
        specs.insert(techniques[choice].defaultStep(), at: specs.isEmpty ? 0 : selected + 1)
        selected = specs.isEmpty ? 0 : min(specs.count - 1, selected + (specs.count > 1 ? 1 : 0))
        dirty = true
        mode = .form
        field = 0
      default:
        if let step = key.verticalStep { mode = .picking(max(0, min(techniques.count - 1, choice + step))) }
      }
      return .handled
    case .savingPath(var path):
      switch key {
      case .escape: mode = .list
      case .enter:
        let target = path.text
        if app.attempt("write \(target)", { try app.session.savePipeline(to: target) }) {
          app.post(.info, "pipeline written to \(target)")
          mode = .list
        }
      default:
        if path.handle(key) { mode = .savingPath(path) }
      }
      return .handled
    }
  }

  private func handleList(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    error = nil
    if key != .escape { confirmingLeave = false }
    switch key {
    case .character("a"): mode = .picking(0)
    case .character("d"), .delete:
      guard selected < specs.count else { return .handled }
      specs.remove(at: selected)
      selected = max(0, min(selected, specs.count - 1))
      dirty = true
    case .character("J"):
      guard selected + 1 < specs.count else { return .handled }
      specs.swapAt(selected, selected + 1)
      selected += 1
      dirty = true
    case .character("K"):
      guard selected > 0, selected < specs.count else { return .handled }
      specs.swapAt(selected, selected - 1)
      selected -= 1
      dirty = true
    case .tab, .enter, .right, .character("l"):
      if !specs.isEmpty {
        mode = .form
        field = 0
      }
    case .character("s"): apply(app: app)
    case .character("w"): mode = .savingPath(TextField(Self.suggestedFile(app.state)))
    case .escape:
      if dirty && !confirmingLeave {
        confirmingLeave = true
        error = "changes not applied: esc again to drop them, s to apply"
        return .handled
      }
      return .close
    default:
      guard let step = key.verticalStep else { return .unhandled }
      selected = max(0, min(specs.count - 1, selected + step))
    }
    return .handled
  }

  private func handleForm(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    guard selected < specs.count else {
      mode = .list
      return .handled
    }
    let rows = fields(specs[selected])
    switch key {
    case .left where currentChoices != nil: cycleChoice(by: -1)
    case .right where currentChoices != nil, .character(" ") where currentChoices != nil: cycleChoice(by: 1)
    case .tab, .left, .character("h"): mode = .list
    case .escape:
      // Nothing unapplied (just applied with s, or nothing changed): back to the workbench,
      // where n runs the steps; with changes, to the list, which asks before dropping them.
      if !dirty { return .close }
      mode = .list
    case .character("s"): apply(app: app)
    case .enter:
      if field > 0, let parameter = technique(specs[selected].technique)?.parameters[field - 1] {
        let current = specs[selected][parameter.key] ?? parameter.defaultValue
        // A choice is typed like text (the tutorials say so) and checked against its options.
        if case .bool = parameter.kind, case .bool(let value)? = current {
          specs[selected].set(parameter.key, to: .bool(!value))
          dirty = true
          return .handled
        }
      }
      mode = .editing(field: field, TextField(rows[field].value))
    default:
      guard let step = key.verticalStep else { return .unhandled }
      field = max(0, min(rows.count - 1, field + step))
    }
    return .handled
  }

  /// Checks typed text against the field's descriptor; keeps editing with an error if invalid.
  private func commit(field index: Int, text: String) {
    if index == 0 {
      let name = text.trimmingCharacters(in: .whitespaces)
      guard !name.isEmpty else {
        error = "name: must not be empty"
        return
      }
      specs[selected].name = name
    } else if let parameter = technique(specs[selected].technique)?.parameters[index - 1] {
      do {
        specs[selected].set(parameter.key, to: try parameter.parse(text))
      } catch {
        self.error = error.description
        return
      }
    }
    error = nil
    dirty = true
    mode = .form
  }

  private func apply(app: WorkbenchApp) {
    let pipeline = specs
    if app.attempt("apply pipeline", { try app.session.replaceSteps(pipeline) }) {
      dirty = false
      error = nil
      app.post(.info, "pipeline applied: \(Wording.count(pipeline.count, "step")); esc goes back to the workbench")
    }
  }

  /// What `w` offers to write: the file the pipeline was opened from (a YAML file stays YAML),
  /// else `pipeline.yaml`.
  static func suggestedFile(_ state: WorkbenchState) -> String { state.pipelineFile ?? "pipeline.yaml" }
}
