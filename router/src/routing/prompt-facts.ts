// What the request path reads of a prompt, each worked out once per request, on first use, and shared by the steps
// that need it: each message's text, the classifiers' view, the token estimate (limits, context windows) and the
// capabilities it needs. A request routed by model name never computes the view.
import {
  estimatePromptTokens,
  messageTexts,
  promptView,
  type ChatMessageLike,
  type PromptView,
} from '../classify/prompt-text.ts';
import { requiredCapabilities, type Capability } from './capabilities.ts';

export interface PromptSource {
  messages: ReadonlyArray<ChatMessageLike>;
  /** What capability checks read besides the messages (tools, functions, response_format). */
  features?: { tools?: unknown; functions?: unknown; response_format?: unknown };
  /** The prompt's exact size in tokens where the body says it (token-id input). */
  promptTokens?: number;
}

export class PromptFacts {
  private textsOnce?: string[];
  private viewOnce?: PromptView;
  private tokensOnce?: number;
  private needsOnce?: Capability[];

  constructor(private readonly source: PromptSource) {}

  get messages(): ReadonlyArray<ChatMessageLike> {
    return this.source.messages;
  }

  /** Each message's text (text parts joined), in order. */
  get texts(): readonly string[] {
    return (this.textsOnce ??= messageTexts(this.source.messages));
  }

  /** The latest request, system prompt and history, windowed: what classifiers read. */
  get view(): PromptView {
    return (this.viewOnce ??= promptView(this.source.messages, this.texts));
  }

  /** The prompt's size in tokens: exact for token ids, else estimated. */
  get tokens(): number {
    return (this.tokensOnce ??= this.source.promptTokens ?? estimatePromptTokens(this.source.messages, this.texts));
  }

  /** What it needs of a model beyond text (vision, tools, json_schema). */
  get needs(): Capability[] {
    return (this.needsOnce ??= requiredCapabilities({ messages: this.source.messages, ...this.source.features }));
  }
}
