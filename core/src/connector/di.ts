// tsyringe reads decorator metadata through the Reflect API, which `reflect-metadata` installs;
// it must be evaluated before tsyringe, so every module of Sluice imports tsyringe from here.
import "reflect-metadata";

export {
  container as rootContainer,
  type DependencyContainer,
  type Disposable,
  inject,
  injectable,
  Lifecycle,
} from "tsyringe";
