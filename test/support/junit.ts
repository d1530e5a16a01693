// Reading JUnit XML back in tests: well-formed (fast-xml-parser's validator), then parsed into the shape
// renderJunit writes, every repeatable element as an array and every attribute as its text.
import { XMLParser, XMLValidator } from "fast-xml-parser";

export interface JunitTestcase {
  classname: string;
  name: string;
  time: string;
  properties: { property: { name: string; value: string }[] };
  failure?: { "#text": string; message: string; type: string }[];
  error?: { "#text": string; message: string; type: string }[];
  "system-out"?: string[];
}

export interface JunitSuite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  timestamp: string;
  testcase: JunitTestcase[];
}

export interface Junit {
  testsuites: { name: string; tests: string; failures: string; errors: string; time: string; testsuite: JunitSuite[] };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true, // numeric character references (&#10; in attributes) decoded too
  isArray: (name) => ["testsuite", "testcase", "property", "failure", "error", "system-out"].includes(name),
});

/** The document parsed; throws (naming the validator's complaint) when it is not well-formed XML. */
export function parseJunit(xml: string): Junit {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  return parser.parse(xml) as Junit;
}
