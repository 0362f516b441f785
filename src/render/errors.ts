// A spec the CRD accepts but that cannot work (e.g. Triton with an hf:// model). The status code
// turns it into the condition reason InvalidSpec; the render command prints each problem.
export type Problem = {
  /** Dotted path into the ModelService, e.g. `spec.model.uri`. */
  path: string;
  message: string;
};

export class InvalidSpecError extends Error {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join("; "));
    this.name = "InvalidSpecError";
    this.problems = problems;
  }
}

/** The spec asks for what its ModelServiceClass does not allow (status reason ClassViolation). */
export class ClassViolationError extends InvalidSpecError {
  readonly className: string;

  constructor(className: string, problems: Problem[]) {
    super(problems);
    this.name = "ClassViolationError";
    this.className = className;
  }
}
