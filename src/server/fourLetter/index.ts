/** Four-letter words: registry, ServerView contract, pure formatters, mntr catalogue, Node host facts. */
export * as Commands from "./Commands.js"
export * as Environment from "./Environment.js"
export * as Format from "./Format.js"
export * as Mntr from "./Mntr.js"
export type * from "./ServerView.js"
export { FOUR_LETTER_WORDS } from "./ServerView.js"
